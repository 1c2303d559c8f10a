import ArgumentParser
import Linalg

struct VerifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "verify", abstract: "placeholder")
  func run() throws { print("ok") }
}
VerifyCommand.main()
