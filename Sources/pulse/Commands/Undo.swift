import ArgumentParser
import Foundation
import PulseCore
import PulseStore

/// Seeing a round rep by rep, exporting identified answers, and undoing mistakes: a
/// round sent by error, activity imported twice, a rep who asks to be forgotten.
/// Every removal without `--yes` says what it would remove and changes nothing.
extension Pulse.Rounds {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Each invited rep of a round: sent, reminded and answered.",
            discussion: "For an anonymous survey only whether each rep answered, never when or what.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The survey id.", valueName: "survey"), completion: .surveyIDs) var survey: String
        @Option(help: ArgumentHelp("The period of the round.", valueName: "period")) var period: Period
        @OptionGroup var output: FormatOption

        func run() async throws {
            let detail = try await global.openStore(config: try global.loadConfig()).roundDetail(survey: survey, period: period)
            let anonymous = detail.anonymity == .anonymous
            func answered(_ r: RoundRep) -> String { r.answered ? (anonymous ? "yes" : r.answeredAt ?? "yes") : "no" }
            switch output.format {
            case .json:
                Terminal.out(JSON.object([
                    ("survey", .string(survey)), ("period", .string(period.description)), ("anonymity", .string(detail.anonymity.rawValue)),
                    ("closes_at", .from(detail.round.closesAt)), ("closed_at", .from(detail.round.closedAt)),
                    ("reps", .array(detail.reps.map { r in
                        var pairs: [(String, JSON)] = [("email", .string(r.email)), ("name", .from(r.name)), ("team", .from(r.team)),
                                                      ("sent_at", .from(r.sentAt)), ("reminders", .int(r.reminders)),
                                                      ("answered", .bool(r.answered))]
                        if !anonymous { pairs.append(("answered_at", .from(r.answeredAt))) }
                        return .object(pairs)
                    })),
                ]).serialized() + "\n")
            case .csv:
                var w = CSVWriter()
                w.header(["email", "name", "team", "sent_at", "reminders", "answered"] + (anonymous ? [] : ["answered_at"]))
                for r in detail.reps {
                    w.row([.text(r.email), .text(r.name), .text(r.team), .text(r.sentAt), .int(r.reminders), .bool(r.answered)]
                        + (anonymous ? [] : [.text(r.answeredAt)]))
                }
                Terminal.out(w.text)
            case .table:
                var t = TextTable([("rep", .left), ("team", .left), ("sent", .left), ("reminders", .right), ("answered", .left)])
                for r in detail.reps {
                    t.add([r.email, r.team ?? "–", r.sentAt ?? "queued", String(r.reminders), answered(r)])
                }
                Terminal.out(t.render(style: Terminal.style))
                let done = detail.reps.filter(\.answered).count
                Terminal.note("\(survey) \(period): \(done) of \(Plural.count(detail.reps.count, "invited rep")) answered"
                    + (anonymous ? " (anonymous: whether, never when or what)" : ""))
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete",
            abstract: "Remove a mistaken round with its invitations, their mail and its answers.",
            discussion: "Without --yes it says what it would remove and changes nothing. Personal links already mailed stop working.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The survey id.", valueName: "survey"), completion: .surveyIDs) var survey: String
        @Option(help: ArgumentHelp("The period of the round.", valueName: "period")) var period: Period
        @Flag(help: "Really remove it.") var yes = false

        func run() async throws {
            let summary = try await global.openStore(config: try global.loadConfig()).deleteRound(survey: survey, period: period, apply: yes)
            Removal.report(summary, what: "the round \(survey) \(period)")
        }
    }
}

extension Pulse.KPICommand {
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete",
            abstract: "Remove activity rows between two days, of everyone or of one rep.",
            discussion: "Without --yes it says what it would remove and changes nothing. Quotas stay.")

        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("The first day (included), YYYY-MM-DD.", valueName: "day")) var from: String
        @Option(help: ArgumentHelp("The last day (included), YYYY-MM-DD.", valueName: "day")) var to: String
        @Option(help: ArgumentHelp("Only this rep's rows.", valueName: "email")) var rep: String?
        @Flag(help: "Really remove them.") var yes = false

        func validate() throws {
            guard let a = Day(iso: from) else { throw ValidationError("--from \(from) is not a day like 2026-11-02") }
            guard let b = Day(iso: to) else { throw ValidationError("--to \(to) is not a day like 2026-11-08") }
            guard a <= b else { throw ValidationError("--from \(from) is after --to \(to)") }
        }

        func run() async throws {
            let db = try await global.openStore(config: try global.loadConfig())
            if let rep, try await db.rep(email: rep) == nil { throw try await unknownRep(rep, db: db) }
            let summary = try await db.deleteActivity(from: Day(iso: from)!, to: Day(iso: to)!, repEmail: rep, apply: yes)
            Removal.report(summary, what: "activity from \(from) to \(to)" + (rep.map { " of \($0)" } ?? ""))
        }
    }
}

extension Pulse.Roster {
    struct Erase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "erase",
            abstract: "Remove everything Pulse holds about a rep.",
            discussion: """
                The rep, their identified answers, notes, actions, activity, quotas, opportunities, leads, invitations and mail. \
                Anonymous answers stay: nothing links them to the rep, so nothing says which are theirs. \
                Without --yes it says what it would remove and changes nothing. Backups keep what they hold.
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The rep's email.", valueName: "email")) var email: String
        @Flag(help: "Really remove it all.") var yes = false

        func run() async throws {
            let db = try await global.openStore(config: try global.loadConfig())
            guard try await db.rep(email: email) != nil else { throw try await unknownRep(email, db: db) }
            let summary = try await db.eraseRep(email: email, apply: yes)
            Removal.report(summary, what: "everything about \(email)")
            if yes { Terminal.note("anonymous answers stay: they hold no link to \(email); backups made before keep what they hold") }
        }
    }
}

extension Pulse.Responses {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write an identified survey's answers, one row per response, for a spreadsheet.",
            discussion: "Refused for an anonymous survey: its answers are never shown one by one.")

        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("The survey id.", valueName: "id"), completion: .surveyIDs) var survey: String
        @Option(help: ArgumentHelp("First period (included).", valueName: "period")) var from: Period?
        @Option(help: ArgumentHelp("Last period (included).", valueName: "period")) var to: Period?
        @Option(help: ArgumentHelp("csv or json.", valueName: "format")) var format: ReportFormat = .csv

        func run() async throws {
            let db = try await global.openStore(config: try global.loadConfig())
            let range: PeriodRange? = try {
                guard from != nil || to != nil else { return nil }
                guard let from, let to else { throw PulseError.usage("give both --from and --to, or neither") }
                return try PeriodRange(from: from, to: to)
            }()
            let exported = try await db.exportResponses(survey: survey, range: range)
            let (definition, responses) = (exported.definition, exported.responses)
            var ids = definition.questions.map(\.id)
            for r in responses { for id in r.answers.keys.sorted() where !ids.contains(id) { ids.append(id) } }
            func cell(_ v: AnswerValue?) -> CSVWriter.Cell {
                switch v {
                case let .number(n): .int(n)
                case let .text(s), let .choice(s): .text(s)
                case nil: .text(nil)
                }
            }
            switch format {
            case .json:
                Terminal.out(JSON.array(responses.map { r in
                    .object([("email", .string(r.email)), ("name", .from(r.name)), ("team", .from(r.team)),
                             ("survey", .string(survey)), ("period", .string(r.period.description)),
                             ("submitted_at", .from(r.submittedAt)),
                             ("answers", .object(ids.compactMap { id in
                                 r.answers[id].map { v in (id, v.number.map(JSON.int) ?? .from(v.text)) }
                             }))])
                }).serialized() + "\n")
            case .csv, .table:
                var w = CSVWriter()
                w.header(["email", "name", "team", "survey", "period", "submitted_at"] + ids)
                for r in responses {
                    w.row([.text(r.email), .text(r.name), .text(r.team), .text(survey), .text(r.period.description), .text(r.submittedAt)]
                        + ids.map { cell(r.answers[$0]) })
                }
                Terminal.out(w.text)
            }
            Terminal.note("\(Plural.count(responses.count, "response")) of \(survey)")
        }
    }
}

enum Removal {
    /// "removed ..." or "would remove ...; pass --yes to remove it", on stdout: it is the result.
    static func report(_ summary: RemovalSummary, what: String) {
        if summary.applied {
            Terminal.out(TerminalText.escaped("removed \(what): \(summary)") + "\n")
        } else {
            Terminal.out(TerminalText.escaped("would remove \(what): \(summary); nothing was changed (pass --yes to remove)") + "\n")
        }
    }
}
