package dev.msnexport.verifier.report;

import dev.msnexport.parity.OutputComparison;
import dev.msnexport.verifier.VerifyReport;
import dev.msnexport.verifier.latency.BenchResult;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;

/**
 * The report's plots, drawn with XChart and rendered to PNG data URIs, so that report.html is one
 * self-contained file: latency CDFs per backend (whole distribution and the tail from p90) and
 * absolute-error histograms per comparison.
 */
public final class Charts {
  static {
    // plots are drawn off-screen; on a machine without a display AWT must not look for one
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  static final int WIDTH = 760;
  static final int HEIGHT = 400;

  /** Points per CDF line: enough for a smooth curve, few enough for a small file. */
  static final int MAX_POINTS = 1500;

  private static final Color[] COLORS = {
    new Color(0x1f77b4),
    new Color(0xd62728),
    new Color(0x2ca02c),
    new Color(0xff7f0e),
    new Color(0x9467bd),
    new Color(0x8c564b)
  };

  private Charts() {}

  /**
   * Cumulative distribution of host latency at one batch size, one line per backend; {@code
   * fromPercent} 0 for the whole curve, 90 for the tail where p99 lives.
   */
  public static XYChart latencyCdf(List<BenchResult> atBatch, int batch, double fromPercent) {
    XYChart chart =
        new XYChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title(
                String.format(
                    java.util.Locale.ROOT,
                    "Latency CDF, batch %d%s",
                    batch,
                    fromPercent > 0 ? " (tail from p" + (int) fromPercent + ")" : ""))
            .xAxisTitle("host latency per run (ms)")
            .yAxisTitle("runs at or below (%)")
            .build();
    style(chart.getStyler());
    chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
    chart.getStyler().setMarkerSize(0);
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
    chart.getStyler().setYAxisMin(fromPercent);
    chart.getStyler().setYAxisMax(100.0);
    chart.getStyler().setXAxisDecimalPattern("0.###");
    // latencies span decades (a 0.1 ms body, 10 ms stalls): a log axis shows both
    chart.getStyler().setXAxisLogarithmic(true);
    double lo = Double.POSITIVE_INFINITY;
    double hi = 0;
    for (BenchResult r : atBatch) {
      long[] s = r.samples_ns().clone();
      Arrays.sort(s);
      int n = s.length;
      int first = (int) Math.floor(fromPercent / 100 * n);
      first = Math.min(Math.max(first - 1, 0), n - 1);
      int count = n - first;
      int m = Math.min(count, MAX_POINTS);
      double[] x = new double[m];
      double[] y = new double[m];
      for (int k = 0; k < m; k++) {
        int i = m == 1 ? n - 1 : first + (int) Math.round((double) k * (count - 1) / (m - 1));
        x[k] = s[i] / 1e6;
        y[k] = 100.0 * (i + 1) / n;
      }
      chart.addSeries(r.backend(), x, y);
      lo = Math.min(lo, x[0]);
      hi = Math.max(hi, x[m - 1]);
    }
    // labels at 1..9 times each decade crowd into each other once the axis spans more than a decade
    chart.getStyler().setXAxisLogarithmicDecadeOnly(hi > 10 * lo);
    return chart;
  }

  /**
   * Absolute-error histogram of every float output of one comparison (decade bins), as the share of
   * each output's elements, so a 64-element task output and a 2,048-element weight output show side
   * by side.
   */
  public static CategoryChart errorHistogram(VerifyReport.Comparison c) {
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title("|error| histogram: " + c.candidate() + " vs " + c.reference())
            .xAxisTitle("absolute error")
            .yAxisTitle("share of the output's elements (%)")
            .build();
    style(chart.getStyler());
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    chart.getStyler().setXAxisLabelRotation(30);
    chart.getStyler().setOverlapped(false);
    chart.getStyler().setYAxisMax(100.0);
    for (OutputComparison o : c.outputs()) {
      List<String> bins = new ArrayList<>();
      List<Double> shares = new ArrayList<>();
      for (OutputComparison.Bin b : o.histogram()) {
        bins.add(b.range());
        shares.add(o.elements() == 0 ? 0.0 : 100.0 * b.count() / o.elements());
      }
      chart.addSeries(o.name(), bins, shares);
    }
    return chart;
  }

  private static void style(Styler s) {
    s.setSeriesColors(COLORS);
    s.setChartBackgroundColor(Color.WHITE);
    s.setPlotBorderVisible(false);
    s.setAntiAlias(true);
    s.setLegendBorderColor(new Color(0xdddddd));
  }

  /** The chart as a {@code data:image/png;base64,...} URI. */
  public static String dataUri(Chart<?, ?> chart) {
    try {
      return "data:image/png;base64,"
          + Base64.getEncoder()
              .encodeToString(BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot render a chart to PNG", e);
    }
  }
}
