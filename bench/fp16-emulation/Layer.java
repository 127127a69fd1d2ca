/** Per MSN layer: row and column scores [queries, S] as the mode computes them, and its top-k slots. */
record Layer(double[] row, double[] col, long[] slots, double[] weights) {}
