import Linalg

/// Studies (rank/spectrum sweeps, closed form vs iterative, reports) live here.
public enum Verify {}
