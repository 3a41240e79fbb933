import Foundation
import Testing
@testable import PulseCore

@Suite("Survey definitions")
struct SurveyTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The binary's embedded copies are the files in `Surveys/`, byte for byte.
    @Test func embeddedDefinitionsAreTheShippedFiles() throws {
        for (name, yaml) in DefaultSurveys.all {
            let file = try String(contentsOf: Self.repo.appendingPathComponent("Surveys/\(name)"), encoding: .utf8)
            #expect(file == yaml, "Surveys/\(name) differs from DefaultSurveys.swift: run scripts/embed-surveys")
        }
    }

    @Test func shippedSurveysAreValidAndTranslated() throws {
        let pulse = try SurveyDefinition.load(yaml: DefaultSurveys.weeklyPulse, file: "weekly-pulse.yaml")
        #expect(pulse.anonymity == .identified && pulse.schedule?.every == .week)
        #expect(pulse.questions.filter { $0.type == .scale }.map(\.id) == ["energy", "workload", "support", "quota_confidence"])
        #expect(pulse.question("comment")?.isOptional == true)
        let enps = try SurveyDefinition.load(yaml: DefaultSurveys.enps, file: "enps.yaml")
        #expect(enps.anonymity == .anonymous && enps.schedule?.every == .quarter && enps.enpsQuestion?.id == "enps")
        for s in [pulse, enps] {
            #expect(s.title.locales == ["en", "ms", "ru", "th"])
            #expect(s.intro?.locales == ["en", "ms", "ru", "th"])
            for q in s.questions {
                #expect(q.text.locales == ["en", "ms", "ru", "th"], "\(s.id).\(q.id)")
                for (_, label) in q.labels ?? [:] { #expect(label.locales == ["en", "ms", "ru", "th"]) }
            }
        }
        #expect(pulse.question("energy")!.text.text(for: "th_TH").hasPrefix("สัปดาห์นี้"))
        #expect(pulse.question("energy")!.text.text(for: "ru-RU").hasPrefix("Сколько сил"))
        #expect(pulse.question("energy")!.text.text(for: "pt-BR").hasPrefix("How"))
    }

    func issues(_ yaml: String) -> [String] {
        do {
            _ = try SurveyDefinition.load(yaml: yaml, file: "s.yaml")
            return []
        } catch let PulseError.invalidInput(list) {
            return list.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    @Test func errorsNameTheLineAndField() {
        #expect(issues("""
        id: s
        title: T
        anonymity: identified
        questions:
          - {id: a, type: scale, text: A, min: 1, max: 5}
          - {id: a, type: scale, text: B, min: 5, max: 1}
          - {id: n, type: enps, text: N, min: 1}
          - {id: c, type: choice, text: C, options: [x]}
          - {id: d, type: text, text: D, optinal: true}
        """) == [
            "s.yaml:9: questions[4].optinal: unknown key; expected one of: id, labels, max, min, optional, options, text, type",
            "s.yaml:6: questions[1].id: \"a\" is used by two questions",
            "s.yaml:6: questions[1].max: the scale 5..1 must run from a smaller min to a larger max",
            "s.yaml:7: questions[2].min: an enps question is fixed at 0 to 10",
            "s.yaml:8: questions[3].options: a choice question needs at least two options",
        ])
        #expect(issues("id: s\ntitle: T\nanonymity: public\nquestions: []\n")
            == ["s.yaml:3: anonymity: \"public\" is not one of: identified, anonymous"])
        #expect(issues("id: s\ntitle: T\nanonymity: identified\nquestions: []\n").first?.contains("1 to 10 questions") == true)
        #expect(issues("id: s\ntitle: [\n").first?.hasPrefix("s.yaml:") == true)
        #expect(issues("").first == "s.yaml: the file is empty")
        #expect(issues("""
        id: s
        title: {en: T, xx_1234567890: U}
        anonymity: identified
        questions:
          - {id: e, type: enps, text: E, labels: {"11": Max}}
        """).count == 2)
    }

    @Test func answersAreCheckedAgainstTheQuestion() {
        let scale = Question(id: "q", type: .scale, text: LocalizedText("Q"), min: 1, max: 5)
        #expect((try? scale.parse(" 4 ").get()) == .number(4))
        #expect((try? scale.parse("6").get()) == nil)
        #expect((try? scale.parse("4.5").get()) == nil)
        let enps = Question(id: "e", type: .enps, text: LocalizedText("E"))
        #expect((try? enps.parse("0").get()) == .number(0) && (try? enps.parse("11").get()) == nil)
        let choice = Question(id: "c", type: .choice, text: LocalizedText("C"),
                              options: [ChoiceOption(id: "Yes", text: LocalizedText("Yes")), ChoiceOption(id: "No", text: LocalizedText("No"))])
        #expect((try? choice.parse("yes").get()) == .choice("Yes"))
        #expect((try? choice.parse("maybe").get()) == nil)
    }

    @Test func aRoundKeepsItsVersionAsCanonicalJSON() throws {
        let s = try SurveyDefinition.load(yaml: DefaultSurveys.enps, file: "enps.yaml")
        let json = s.canonicalJSON()
        #expect(try SurveyDefinition.fromCanonicalJSON(json) == s)
        #expect(try SurveyDefinition.fromCanonicalJSON(json).canonicalJSON() == json)
    }
}
