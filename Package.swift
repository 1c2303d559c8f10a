// swift-tools-version: 6.1
import PackageDescription

/// Linalg, Editing and Verify are generic over Float/Double; cross-module optimisation lets
/// callers in other modules get specialised loops instead of one protocol-witness call per
/// element (measured: Cholesky at n = 1536 0.26 s -> 0.019 s, docs/benchmarks.md).
let crossModule: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]
/// The numeric modules are optimised in debug builds too: the tests run real models (a MEMIT
/// edit of SmolLM2 through the generic backward pass took 288 s unoptimised).
let optimisedInDebug: [SwiftSetting] = [
  .unsafeFlags(["-O", "-cross-module-optimization"], .when(configuration: .debug))
]

let package = Package(
  name: "KnowledgeEditVerify",
  platforms: [.macOS(.v13)],
  products: [
    .library(name: "Linalg", targets: ["Linalg"]),
    .library(name: "Models", targets: ["Models"]),
    .library(name: "Editing", targets: ["Editing"]),
    .library(name: "Verify", targets: ["Verify"]),
    .executable(name: "verify", targets: ["VerifyCLI"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
  ],
  targets: [
    // The only doors to C: OpenBLAS's CBLAS + LAPACKE, and GSL.
    .systemLibrary(
      name: "CLapack",
      pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
    ),
    // GSL deliberately without pkgConfig: that would link libgslcblas, whose reference
    // BLAS can win the symbol race against OpenBLAS (see ../shared/NOTES-swift-c.md).
    .systemLibrary(
      name: "CGSL",
      providers: [.apt(["libgsl-dev"])]
    ),
    // zlib: the deflated members of `.npz` archives (numpy.savez_compressed) and CRC-32.
    .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
    // Open MPI: the reduction of `verify stats` run as several processes (mpirun). Only the
    // executable links it; a single process never calls it.
    .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
    .target(name: "Cluster", dependencies: ["CMPI"]),
    .target(
      name: "Linalg", dependencies: ["CLapack", "CGSL", "CZlib"],
      swiftSettings: crossModule + optimisedInDebug
    ),
    // The forward pass's elementwise kernels (exp, softmax, SwiGLU, RMSNorm, RoPE), compiled
    // per instruction set and picked at load time; optimised in debug builds too.
    .target(name: "CKernels", cSettings: [.unsafeFlags(["-O2"])]),
    // Model files (GGUF, safetensors), tokenizers and architectures (forward and backward passes).
    .target(
      name: "Models", dependencies: ["Linalg", "CKernels"], swiftSettings: crossModule + optimisedInDebug),
    .target(
      name: "Editing", dependencies: ["Linalg", "Models", "CKernels"], swiftSettings: crossModule + optimisedInDebug),
    .target(name: "Verify", dependencies: ["Linalg", "Models", "Editing"], swiftSettings: crossModule),
    .executableTarget(
      name: "VerifyCLI",
      dependencies: [
        "Linalg", "Models", "Editing", "Verify", "CKernels", "Cluster",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .testTarget(
      name: "LinalgTests",
      dependencies: [
        "Linalg",
        .product(name: "PropertyBased", package: "swift-property-based"),
      ]
    ),
    .testTarget(
      name: "EditingTests",
      dependencies: [
        "CKernels",
        "Models", "Editing", "Linalg",
        .product(name: "PropertyBased", package: "swift-property-based"),
      ]
    ),
    .testTarget(
      name: "VerifyTests",
      dependencies: [
        "Verify", "Models", "Editing", "Linalg",
        .product(name: "PropertyBased", package: "swift-property-based"),
      ]
    ),
  ]
)
