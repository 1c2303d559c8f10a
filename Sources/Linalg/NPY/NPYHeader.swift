/// The parsed header of an `.npy` file.
public struct NPYHeader: Equatable, Sendable, CustomStringConvertible {
  /// An `.npy` format version (1.0, 2.0 or 3.0).
  public struct Version: Equatable, Sendable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public init(major: Int, minor: Int) {
      self.major = major
      self.minor = minor
    }
    public var description: String { "\(major).\(minor)" }
  }

  public let version: Version
  /// The dtype descriptor exactly as the header states it, e.g. `<f8`.
  public let dtype: String
  /// `true` if the data is stored column-major.
  public let fortranOrder: Bool
  /// The array's shape; `[]` for a 0-D scalar.
  public let shape: [Int]
  /// The offset of the first data byte (preamble + header length).
  public let dataOffset: Int

  public init(version: Version, dtype: String, fortranOrder: Bool, shape: [Int], dataOffset: Int) {
    self.version = version
    self.dtype = dtype
    self.fortranOrder = fortranOrder
    self.shape = shape
    self.dataOffset = dataOffset
  }

  public var description: String {
    "npy \(version): dtype \(dtype), shape \(NPY.pythonShape(shape)), \(fortranOrder ? "Fortran" : "C") order, data at byte \(dataOffset)"
  }
}
