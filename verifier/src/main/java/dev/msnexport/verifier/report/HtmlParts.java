package dev.msnexport.verifier.report;

import java.util.Locale;

/** The page frame and small HTML helpers that report.html's verify and bench pages share. */
final class HtmlParts {
  private HtmlParts() {}

  static final String STYLE =
      """
      body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:24px auto;max-width:1120px;color:#222}
      h1{font-size:22px}h1 .pass{color:#1a7f37}h1 .fail{color:#cf222e}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
      table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right;white-space:nowrap}
      td.l,th.l{text-align:left}th{background:#f6f8fa;text-align:center}.meta,.wrap{white-space:normal}
      .bad{color:#cf222e;font-weight:600}
      .ok{color:#1a7f37}.meta{color:#555}img{max-width:100%;border:1px solid #eee;margin:6px 0}.plots{display:flex;flex-wrap:wrap;gap:8px}
      .plots img{width:49%}
      """;

  static StringBuilder head(String title, boolean pass) {
    StringBuilder b = new StringBuilder();
    b.append("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>")
        .append(esc(title))
        .append("</title><style>")
        .append(STYLE)
        .append("</style></head><body>\n");
    b.append("<h1>")
        .append(esc(title))
        .append(": ")
        .append(pass ? "<span class=pass>PASS</span>" : "<span class=fail>FAIL</span>")
        .append("</h1>\n");
    return b;
  }

  static String tail(StringBuilder b) {
    return b.append("\n</body></html>\n").toString();
  }

  static String img(
      Plots plots, java.util.function.Function<Plots.Source, String> draw, String alt) {
    String uri = plots.draw(draw);
    return uri == null ? "" : "<img alt=\"" + esc(alt) + "\" src=\"" + uri + "\">\n";
  }

  static void skippedNote(StringBuilder b, Plots plots) {
    if (plots.skipped() != null) {
      b.append(p("meta", esc(Plots.skippedLine(plots.skipped()))));
    }
  }

  static String p(String cls, String html) {
    return "<p class=" + cls + ">" + html + "</p>\n";
  }

  static String num(Double v, String fmt) {
    return v == null ? "-" : f(fmt, v);
  }

  static String f(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }

  static String esc(String s) {
    if (s == null) {
      return "";
    }
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;")
        .replace("'", "&#39;");
  }
}
