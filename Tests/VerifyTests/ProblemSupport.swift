import Editing
import Foundation
import Linalg

/// A verification problem with mildly anisotropic keys: coordinate i scaled by 10^(-i/d_k), so
/// C0's eigenvalues spread over about two decades; `P = d_m d_k` preserved keys, `B` edit keys,
/// Gaussian `W0` (`d_v x d_k`) and targets.
func anisotropicProblem(dk: Int, dm: Double, batch: Int, seed: UInt, dv: Int = 6) throws -> EditProblem<Double> {
  let r = GSLRandom(seed: seed)
  let p = Int((dm * Double(dk)).rounded())
  let scales = (0..<dk).map { pow(10, -Double($0) / Double(dk)) }
  var k0: Matrix<Double> = r.gaussianMatrix(dk, p)
  var ke: Matrix<Double> = r.gaussianMatrix(dk, batch)
  for i in 0..<dk {
    for j in 0..<p { k0[i, j] *= scales[i] }
    for j in 0..<batch { ke[i, j] *= scales[i] }
  }
  return try EditProblem(
    W0: r.gaussianMatrix(dv, dk), C0: try k0.gram(scale: 1 / Double(p)), KE: ke, VE: r.gaussianMatrix(dv, batch))
}
