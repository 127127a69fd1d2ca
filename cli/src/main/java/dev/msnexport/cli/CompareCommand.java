package dev.msnexport.cli;

import dev.msnexport.common.BadInputException;
import dev.msnexport.verifier.Defaults;
import dev.msnexport.verifier.VerifyReport;
import dev.msnexport.verifier.latency.BenchReport;
import dev.msnexport.verifier.report.SavedResults;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(
    name = "compare",
    mixinStandardHelpOptions = true,
    description =
        "Compare two saved results of the same kind: bench (p50/p99 per backend and batch, and the regression gate of B "
            + "against A on the medians of block minima: exit 3 on a regression) or verify (parity figures side by side: exit 1 when B fails).")
final class CompareCommand implements Callable<Integer> {
  @Parameters(
      index = "0",
      paramLabel = "A",
      description = "The earlier result (baseline): a bench or verify report.json.")
  Path a;

  @Parameters(
      index = "1",
      paramLabel = "B",
      description = "The later result (candidate), of the same kind.")
  Path b;

  @Mixin RegressionGateOptions regression;

  @Mixin SeedOption seed;

  @Override
  public Integer call() {
    String sa = SavedResults.schemaOf(a);
    String sb = SavedResults.schemaOf(b);
    if (!sa.equals(sb)
        && !(VerifyReport.READABLE.contains(sa) && VerifyReport.READABLE.contains(sb))) {
      throw new BadInputException(
          "cannot compare "
              + a
              + " ("
              + sa
              + ") with "
              + b
              + " ("
              + sb
              + "): not the same kind of result");
    }
    if (sa.equals(BenchReport.SCHEMA)) {
      BenchReport ra = BenchReport.read(a);
      BenchReport rb = BenchReport.read(b);
      RegressionGateOptions g = regression;
      double limit =
          g.maxP99Regression != null
              ? g.maxP99Regression
              : Defaults.maxP99RegressionOfSaved(rb.profile());
      return CompareSummary.bench(
          a, b, ra, rb, limit, g.bootstrap.settings(seed.value()), !g.noDriftCorrection);
    }
    if (VerifyReport.READABLE.contains(sa)) {
      return CompareSummary.verify(
          a, b, SavedResults.readVerify(a, sa), SavedResults.readVerify(b, sb));
    }
    throw new BadInputException(
        a
            + ": schema '"
            + sa
            + "' is neither "
            + BenchReport.SCHEMA
            + " nor "
            + VerifyReport.SCHEMA);
  }
}
