/// The locate-then-edit methods this suite computes, verifies and applies (one enum for the
/// closed forms, the route comparison, real-model edits and the command line).
public enum EditMethod: String, Codable, Sendable, CaseIterable {
  /// Rank-one equality-constrained edit at one layer, one fact per update (applied in sequence).
  case rome
  /// Batched equality-constrained edit at one layer.
  case emmet
  /// Batched least-squares edit spread over several layers.
  case memit
  /// Batched edit projected onto the near null space of the preserved keys, spread over
  /// several layers as MEMIT (Fang et al., ICLR 2025; ``alphaEdit(_:config:previousKeys:projector:)``).
  case alphaedit

  /// Methods that spread a batch over several layers.
  public var spreadsOverLayers: Bool { self == .memit || self == .alphaedit }
}
