import Foundation
import PulseCore
import Testing
@testable import PulseMail

/// The mail's words in every language follow `docs/glossary.yaml`.
@Suite("Mail glossary")
struct GlossaryMailTests {
    @Test func theMailStringsFollowTheGlossary() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let g = try Glossary(yaml: String(contentsOf: repo.appendingPathComponent("docs/glossary.yaml"), encoding: .utf8))
        let items = Glossary.items(ofTable: MailStrings.all, name: "MailStrings")
        #expect(items.count > 5)
        let problems = g.problems(in: items)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }
}
