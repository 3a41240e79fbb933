import Foundation
import PulseCore
import Testing

/// `pulse drivers` out of the box: the shipped engagement survey, the demo showing it,
/// and a sentence for a survey that cannot be analysed.
@Suite struct DriversTests {
    @Test func theShippedEngagementSurveyHasAnENPSQuestionDriversAndAComment() throws {
        let s = try SurveyDefinition.load(yaml: DefaultSurveys.engagement, file: "engagement.yaml")
        #expect(s.anonymity == .anonymous && s.schedule?.every == .quarter)
        #expect(s.questions.count <= 10 && s.enpsQuestion != nil)
        let scales = s.questions.filter { $0.type == .scale }
        #expect((6...8).contains(scales.count), "\(scales.map(\.id))")
        #expect(s.questions.contains { $0.type == .text && $0.isOptional })
        for q in s.questions {
            #expect(Set(q.text.locales) == ["en", "th", "ms", "ru"], "\(q.id): \(q.text.locales)")
            for (point, label) in q.labels ?? [:] { #expect(Set(label.locales) == ["en", "th", "ms", "ru"], "\(q.id) \(point)") }
        }
        #expect(Set(s.title.locales) == ["en", "th", "ms", "ru"] && Set(s.intro?.locales ?? []) == ["en", "th", "ms", "ru"])
    }

    @Test func theDemoShowsDriversAndDriversFindsTheSurveyItself() throws {
        let w = try Workspace()
        defer { w.remove() }
        let demo = try w.pulse("demo", "demo", "--date", "2026-11-22")
        #expect(demo.status == 0, "\(demo.stderr)")
        #expect(demo.stdout.contains("$ pulse drivers --survey engagement"), "\(demo.stdout)")
        let env = ["PULSE_DB": w.path("demo/pulse.sqlite"), "PULSE_SURVEYS": w.path("demo/Surveys"), "PULSE_CONFIG": w.path("demo/pulse.yaml")]
        let json = try #require(try w.pulse(["drivers", "--format", "json"], env: env).json() as? [String: Any])
        #expect(json["survey"] as? String == "engagement" && json["suppressed"] as? Bool == false)
        let drivers = try #require(json["drivers"] as? [[String: Any]])
        #expect(drivers.count == 7 && drivers.allSatisfy { ($0["n"] as? Int ?? 0) >= 5 && $0["r"] is Double }, "\(drivers)")
        // Ranked, strongest first; the demo's data make growth and manager support lead.
        let rs = drivers.compactMap { $0["r"] as? Double }
        #expect(rs == rs.sorted(by: >))
        #expect(Set(drivers.prefix(2).compactMap { $0["question"] as? String }) == ["growth", "manager_support"], "\(drivers)")
        // The table in the demo is the command's own.
        let table = try w.pulse(["drivers", "--survey", "engagement"], env: env)
        let first = try #require(table.stdout.split(separator: "\n").first { $0.contains("My manager supports me") || $0.contains("I can see a way") })
        #expect(demo.stdout.contains(String(first)), "\(first)")

        for (survey, why) in [("enps", "enps cannot be analysed for drivers: it has an eNPS question but no scale questions to rank"),
                              ("weekly-pulse", "weekly-pulse cannot be analysed for drivers: it has scale questions but no eNPS question")] {
            let r = try w.pulse(["drivers", "--survey", survey], env: env)
            #expect(r.status == 64 && r.stderr.contains(why), "\(survey): \(r.stderr)")
        }
    }

    @Test func initWritesTheEngagementSurveyWhenAsked() throws {
        let w = try Workspace()
        defer { w.remove() }
        #expect(try w.pulse("init").status == 0)
        #expect(!FileManager.default.fileExists(atPath: w.path("Surveys/engagement.yaml")), "not beside enps.yaml by default: both ask the eNPS question")
        let none = try w.pulse("drivers")
        #expect(none.status == 64 && none.stderr.contains("pulse send engagement"), "\(none.stderr)")
        #expect(try w.pulse("init", "--with", "engagement").status == 0)
        #expect(try String(contentsOfFile: w.path("Surveys/engagement.yaml"), encoding: .utf8) == DefaultSurveys.engagement)
        #expect(try w.pulse("survey", "validate").status == 0)
        #expect(try w.pulse("init", "--with", "nosuch").status == 64)
    }
}
