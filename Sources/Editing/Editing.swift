import Linalg

/// The editing core (ROME, EMMET, MEMIT closed forms, covariance precomputation, models)
/// lives here; see issue 3. This file only anchors the module until then.
public enum Editing {
  /// The version of the editing core's formulas and file formats.
  public static let formatVersion = 1
}
