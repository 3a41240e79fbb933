import Foundation
import Testing
@testable import PulseCore

/// The shipped surveys use the terms of `docs/glossary.yaml` in every language, and
/// none of the variants it avoids.
@Suite("Glossary")
struct GlossaryTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func glossary() throws -> Glossary {
        try Glossary(yaml: String(contentsOf: repo.appendingPathComponent("docs/glossary.yaml"), encoding: .utf8))
    }

    @Test func theShippedSurveyFilesFollowTheGlossary() throws {
        let g = try Self.glossary()
        let dir = Self.repo.appendingPathComponent("Surveys")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(names.count == 3)
        for name in names {
            let yaml = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            let survey = try SurveyDefinition.load(yaml: yaml, file: name)
            let problems = g.problems(in: Glossary.items(of: survey, file: name))
            #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        }
    }

    @Test func theEmbeddedSurveysFollowTheGlossary() throws {
        let g = try Self.glossary()
        for (name, yaml) in DefaultSurveys.all {
            let problems = g.problems(in: Glossary.items(of: try SurveyDefinition.load(yaml: yaml, file: name), file: name))
            #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        }
    }

    /// The checker itself: it finds a term's absence, a variant, a missing language.
    @Test func theCheckFindsWhatItShould() throws {
        let g = try Self.glossary()
        let bad = g.problems(in: [
            Glossary.Item(place: "a", texts: ["en": "Prepare your one-on-one.", "th": "เตรียมการคุยแบบตัวต่อตัว",
                                              "ms": "Sedia sesi empat mata.", "ru": "Готовьтесь к встрече один на один."]),
            Glossary.Item(place: "b", texts: ["en": "Very manageable", "ms": "Sangat terurus", "th": "x", "ru": "Полон сил"]),
            Glossary.Item(place: "c", texts: ["en": "Not for this round", "ms": "Bukan untuk pusingan ini"]),
        ])
        #expect(bad.contains { $0.hasPrefix("a th: the English says \"one-on-one\"") }, "\(bad)")
        #expect(bad.contains { $0.hasPrefix("a th: \"การคุยแบบตัวต่อตัว\"") }, "\(bad)")
        #expect(bad.contains { $0.hasPrefix("b ms: \"Sangat terurus\"") } && bad.contains { $0.hasPrefix("b ru: \"Полон сил\"") }, "\(bad)")
        #expect(bad.contains { $0.hasPrefix("c ms: \"pusingan*\"") } && bad.contains { $0 == "c: no th, ru text" }, "\(bad)")
        // Whole words: the neutral "не уверены" is not the masculine "не уверен".
        #expect(g.problems(in: [Glossary.Item(place: "d", texts: ["ru": "Совсем не уверены"])], requireAll: false).isEmpty)
    }

    @Test func periodNamesFollowTheGlossary() throws {
        let problems = try Self.glossary().problems(in: Glossary.items(ofTable: PeriodNames.all, name: "PeriodNames"))
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }
}
