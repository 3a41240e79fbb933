import ArgumentParser
import Foundation
import PulseCore
import PulseStore

extension Pulse {
    struct Rounds: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rounds",
            abstract: "Survey rounds: one survey for one period.",
            subcommands: [List.self, Show.self, Close.self, Delete.self])
    }
}

extension Pulse.Rounds {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List rounds with their answers.")

        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("Only this survey.", valueName: "id"), completion: .surveyIDs) var survey: String?
        @OptionGroup var output: FormatOption

        func run() async throws {
            let store = try await global.openStore(config: try global.loadConfig())
            let rounds = try await store.roundSummaries(survey: survey)
            switch output.format {
            case .json:
                Terminal.out(JSON.array(rounds.map { r in
                    .object([("survey", .string(r.round.surveyID)), ("period", .string(r.round.period.description)),
                             ("version", .int(r.version)), ("source", .string(r.round.source)),
                             ("invited", .from(r.round.source == "sent" ? r.invited : nil)),
                             ("answered", .int(r.answered)), ("responses", .int(r.responses)),
                             ("opened_at", .string(r.round.openedAt)), ("closes_at", .from(r.round.closesAt)),
                             ("closed_at", .from(r.round.closedAt))])
                }).serialized() + "\n")
            case .csv:
                var w = CSVWriter()
                w.header(["survey", "period", "version", "source", "invited", "answered", "responses", "opened_at", "closes_at", "closed_at"])
                for r in rounds {
                    w.row([.text(r.round.surveyID), .text(r.round.period.description), .int(r.version), .text(r.round.source),
                           .int(r.round.source == "sent" ? r.invited : nil), .int(r.answered), .int(r.responses),
                           .text(r.round.openedAt), .text(r.round.closesAt), .text(r.round.closedAt)])
                }
                Terminal.out(w.text)
            case .table:
                var t = TextTable([("survey", .left), ("period", .left), ("version", .right), ("source", .left),
                                   ("answered", .right), ("state", .left)])
                for r in rounds {
                    let answered = r.round.source == "sent" ? "\(r.answered)/\(r.invited)" : "\(r.answered)"
                    t.add([r.round.surveyID, r.round.period.description, "v\(r.version)", r.round.source, answered,
                           r.round.closedAt != nil ? "closed" : r.round.source == "sent" ? "open" : "–"])
                }
                Terminal.out(t.render(style: Terminal.style))
            }
        }
    }
}
