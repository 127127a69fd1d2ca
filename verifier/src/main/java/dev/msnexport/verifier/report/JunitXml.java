package dev.msnexport.verifier.report;

import dev.msnexport.parity.OutputComparison;
import dev.msnexport.parity.RetrievalComparison;
import dev.msnexport.verifier.VerifyReport;
import dev.msnexport.verifier.latency.BenchReport;
import dev.msnexport.verifier.latency.BenchResult;
import dev.msnexport.verifier.latency.GateResult;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.TransformerException;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * JUnit XML (the Ant/Surefire form every CI system reads): {@code testsuites > testsuite >
 * testcase}, a failing case carrying {@code <failure message type>}, a backend that failed to run
 * an {@code <error>}, a gate with nothing to compare {@code <skipped>}. Verify: one suite per
 * comparison, one case per output and per retrieval layer. Bench: one case per gate and one per
 * measurement (the latter always pass and carry the figures).
 */
public final class JunitXml {
  private JunitXml() {}

  /** The figures of an output comparison, in a case's detail. */
  private static final String OUTPUT_FIGURES =
      "max_abs %.3e, max_rel %.3e, p99_abs %.3e, cosine %.9f, non_finite %d, failing %d of %d (atol"
          + " %.1e, rtol %.1e; min atol to pass %.3e, min rtol to pass %.3e)";

  /** The figures of a retrieval layer's comparison, in a case's detail. */
  private static final String RETRIEVAL_FIGURES =
      "%d/%d queries identical, %d tie (%d change the set), %d mismatched, %d downstream of a tie"
          + " (tie_epsilon %.1e, largest gap %.3e, scores from %s)";

  /** A test case before it becomes XML. */
  record Case(
      String classname,
      String name,
      double seconds,
      String outcome,
      String message,
      String detail) {
    /** A comparison's case: it passes or fails, taking no time of its own. */
    static Case check(String classname, String name, boolean pass, String message, String detail) {
      return new Case(classname, name, 0, pass ? "pass" : "failure", message, detail);
    }
  }

  record Suite(String name, List<Case> cases) {}

  public static String verify(VerifyReport r) {
    List<Suite> suites = new ArrayList<>();
    List<Case> runs = new ArrayList<>();
    for (VerifyReport.BackendRun b : r.backends()) {
      runs.add(
          new Case(
              "msn-export.verify.backends",
              "run " + b.name(),
              b.seconds(),
              b.status().equals("ok") ? "pass" : "error",
              b.error(),
              b.error()));
    }
    suites.add(new Suite("verify backends", runs));
    for (VerifyReport.Comparison c : r.comparisons()) {
      String cls = "msn-export.verify." + c.candidate() + "_vs_" + c.reference();
      List<Case> cases = new ArrayList<>();
      String tolerances = c.tolerances() == null ? "" : "; " + c.tolerances().summary();
      if (c.output_set() != null) {
        for (VerifyReport.OutputSetMismatch x : c.output_set()) {
          cases.add(
              Case.check(
                  cls,
                  "output " + x.output(),
                  false,
                  x.message(c.candidate(), c.reference()),
                  x.message(c.candidate(), c.reference())
                      + ": an output must be given alike by both backends"));
        }
      }
      for (OutputComparison o : c.outputs()) {
        String figures =
            MarkdownReport.f(
                    OUTPUT_FIGURES,
                    o.max_abs(),
                    o.max_rel(),
                    o.p99_abs(),
                    o.cosine(),
                    o.non_finite(),
                    o.failing_elements(),
                    o.elements(),
                    o.atol(),
                    o.rtol(),
                    o.min_atol_to_pass(),
                    o.min_rtol_to_pass())
                + MarkdownReport.tieExempt(o)
                + tolerances
                + (c.tolerances() == null || c.tolerances().raisedNote(o.name()) == null
                    ? ""
                    : "; " + c.tolerances().raisedNote(o.name()));
        cases.add(
            Case.check(
                cls,
                "output " + o.name(),
                o.pass(),
                o.name()
                    + ": "
                    + o.failing_elements()
                    + " of "
                    + o.elements()
                    + " elements out of tolerance",
                figures));
      }
      for (RetrievalComparison rc : c.retrieval()) {
        String figures =
            MarkdownReport.f(
                    RETRIEVAL_FIGURES,
                    rc.identical_queries(),
                    rc.queries(),
                    rc.tie_queries(),
                    rc.set_changing_tie_queries(),
                    rc.mismatched_queries(),
                    rc.downstream_queries(),
                    rc.tie_epsilon(),
                    rc.min_tie_epsilon_to_pass(),
                    rc.score_source())
                + tolerances;
        cases.add(
            Case.check(
                cls,
                "retrieval layer " + rc.layer(),
                rc.pass(),
                "layer "
                    + rc.layer()
                    + ": "
                    + rc.mismatched_queries()
                    + " queries with mismatched slots; first: "
                    + rc.first_mismatch(),
                figures));
      }
      suites.add(new Suite(c.candidate() + " vs " + c.reference(), cases));
    }
    return render("msn-export verify " + r.model(), suites);
  }

  public static String bench(BenchReport r) {
    List<Suite> suites = new ArrayList<>();
    List<Case> gates = new ArrayList<>();
    for (GateResult g : r.gates()) {
      String outcome =
          switch (g.verdict()) {
            case "fail" -> "failure";
            case "skipped" -> "skipped";
            default -> "pass";
          };
      gates.add(new Case("msn-export.bench.gates", g.name(), 0, outcome, g.message(), g.message()));
    }
    suites.add(new Suite("latency gates", gates));
    List<Case> measured = new ArrayList<>();
    for (BenchResult b : r.results()) {
      String figures =
          String.format(
              Locale.ROOT,
              "%d runs: min %.4f, mean %.4f, p50 %.4f, p90 %.4f, p95 %.4f, p99 %.4f, p99.9 %.4f, "
                  + "max %.4f ms; %.0f samples/s",
              b.iterations(),
              b.host_ms().min(),
              b.host_ms().mean(),
              b.host_ms().p50(),
              b.host_ms().p90(),
              b.host_ms().p95(),
              b.host_ms().p99(),
              b.host_ms().p99_9(),
              b.host_ms().max(),
              b.throughput_samples_per_s());
      measured.add(
          new Case(
              "msn-export.bench.latency",
              "latency " + b.backend() + " batch " + b.batch(),
              b.measured_s(),
              "pass",
              null,
              figures));
    }
    suites.add(new Suite("latency", measured));
    return render("msn-export bench " + r.model(), suites);
  }

  static String render(String name, List<Suite> suites) {
    try {
      Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().newDocument();
      Element root = doc.createElement("testsuites");
      doc.appendChild(root);
      int tests = 0;
      int failures = 0;
      int errors = 0;
      int skipped = 0;
      double time = 0;
      for (Suite s : suites) {
        Element se = doc.createElement("testsuite");
        int sf = 0;
        int serr = 0;
        int ss = 0;
        double st = 0;
        for (Case c : s.cases()) {
          Element ce = doc.createElement("testcase");
          ce.setAttribute("classname", clean(c.classname()));
          ce.setAttribute("name", clean(c.name()));
          ce.setAttribute("time", seconds(c.seconds()));
          st += c.seconds();
          switch (c.outcome()) {
            case "failure", "error" -> {
              Element f = doc.createElement(c.outcome());
              f.setAttribute("message", clean(c.message() == null ? c.outcome() : c.message()));
              f.setAttribute(
                  "type",
                  c.outcome().equals("failure")
                      ? "msn-export." + (c.classname().contains("bench") ? "latency" : "parity")
                      : "msn-export.backend");
              f.setTextContent(clean(c.detail() == null ? "" : c.detail()));
              ce.appendChild(f);
              if (c.outcome().equals("failure")) {
                sf++;
              } else {
                serr++;
              }
            }
            case "skipped" -> {
              Element f = doc.createElement("skipped");
              f.setAttribute("message", clean(c.message() == null ? "skipped" : c.message()));
              ce.appendChild(f);
              ss++;
            }
            default -> {
              if (c.detail() != null) {
                Element out = doc.createElement("system-out");
                out.setTextContent(clean(c.detail()));
                ce.appendChild(out);
              }
            }
          }
          se.appendChild(ce);
        }
        se.setAttribute("name", clean(s.name()));
        se.setAttribute("tests", Integer.toString(s.cases().size()));
        se.setAttribute("failures", Integer.toString(sf));
        se.setAttribute("errors", Integer.toString(serr));
        se.setAttribute("skipped", Integer.toString(ss));
        se.setAttribute("time", seconds(st));
        root.appendChild(se);
        tests += s.cases().size();
        failures += sf;
        errors += serr;
        skipped += ss;
        time += st;
      }
      root.setAttribute("name", clean(name));
      root.setAttribute("tests", Integer.toString(tests));
      root.setAttribute("failures", Integer.toString(failures));
      root.setAttribute("errors", Integer.toString(errors));
      root.setAttribute("skipped", Integer.toString(skipped));
      root.setAttribute("time", seconds(time));
      var t = TransformerFactory.newInstance().newTransformer();
      t.setOutputProperty(OutputKeys.INDENT, "yes");
      t.setOutputProperty(OutputKeys.ENCODING, "UTF-8");
      t.setOutputProperty("{http://xml.apache.org/xslt}indent-amount", "2");
      StringWriter w = new StringWriter();
      t.transform(new DOMSource(doc), new StreamResult(w));
      return w.toString() + "\n";
    } catch (ParserConfigurationException | TransformerException e) {
      throw new IllegalStateException("the JDK's XML support failed", e);
    }
  }

  private static String seconds(double s) {
    return String.format(Locale.ROOT, "%.6f", s);
  }

  /** XML 1.0 cannot hold most control characters, even escaped: drop them. */
  static String clean(String s) {
    StringBuilder b = new StringBuilder(s.length());
    s.codePoints()
        .forEach(
            cp -> {
              if (cp == '\t'
                  || cp == '\n'
                  || cp == '\r'
                  || (cp >= 0x20 && cp <= 0xD7FF)
                  || (cp >= 0xE000 && cp <= 0xFFFD)
                  || cp >= 0x10000) {
                b.appendCodePoint(cp);
              }
            });
    return b.toString();
  }
}
