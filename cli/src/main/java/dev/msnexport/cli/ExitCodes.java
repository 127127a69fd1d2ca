package dev.msnexport.cli;

/** The documented, stable exit codes of every msn-export command. */
public final class ExitCodes {
  /** The command did what was asked and every check passed. */
  public static final int OK = 0;

  /** Parity check failed: an output or retrieval differs beyond tolerance, or a backend failed. */
  public static final int PARITY_FAILURE = 1;

  /** The command line is wrong (unknown option, missing argument). */
  public static final int USAGE = 2;

  /**
   * A latency gate failed (regression against a baseline, or ratio against the reference graph).
   */
  public static final int LATENCY_GATE = 3;

  /** An input file, tensor or field is wrong, or an output cannot be written. */
  public static final int BAD_INPUT = 4;

  /** A bug in msn-export: please report it with the message. */
  public static final int INTERNAL = 70;

  private ExitCodes() {}
}
