import ArgumentParser
import Foundation
import PulseCore
import PulseStore

extension Pulse {
    struct SurveyCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "survey",
            abstract: "Check and list survey definitions.",
            subcommands: [Validate.self, List.self])
    }
}

extension Pulse.SurveyCommand {
    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "validate",
            abstract: "Check survey definitions: a file, or every .yaml in a folder (the surveys folder by default).")

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("A survey file or folder.", valueName: "path"), completion: .file(extensions: ["yaml", "yml"]))
        var path: String?

        func run() throws {
            let loaded = try SurveyFiles.load(directory: path ?? global.surveysPath)
            for (id, s) in loaded.sorted(by: { $0.key < $1.key }) {
                let d = s.definition
                Terminal.out(TerminalText.escaped("ok  \(s.file): \(id), \(d.questions.count) questions, \(d.anonymity.rawValue)") + "\n")
            }
            if loaded.isEmpty { Terminal.warn("no .yaml files in \(path ?? global.surveysPath)") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the survey definitions and their stored history.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: FormatOption

        func run() async throws {
            let loaded = try global.loadSurveys()
            // Without a SQLite file yet there is no history; a PostgreSQL database named is read.
            let history: [String: SurveyHistory]
            if global.postgresURL != nil {
                history = try await global.openStore(config: try global.loadConfig()).surveyHistory()
            } else {
                history = (try? global.openDatabase().surveyHistory().mapValues { SurveyHistory(versions: $0.versions, rounds: $0.rounds) }) ?? [:]
            }
            let surveys = loaded.values.sorted { $0.definition.id < $1.definition.id }
            switch output.format {
            case .json:
                let items: [JSON] = surveys.map { s in
                    let d = s.definition
                    return .object([
                        ("id", .string(d.id)), ("title", .string(d.title.text(for: "en"))),
                        ("anonymity", .string(d.anonymity.rawValue)),
                        ("schedule", d.schedule.map { .string($0.every.rawValue) } ?? .null),
                        ("questions", .int(d.questions.count)),
                        ("locales", .array(Self.locales(d).map(JSON.string))),
                        ("file", .string(s.file)),
                        ("versions", .int(history[d.id]?.versions ?? 0)),
                        ("rounds", .int(history[d.id]?.rounds ?? 0)),
                    ])
                }
                Terminal.out(JSON.array(items).serialized() + "\n")
            case .csv:
                var w = CSVWriter()
                w.header(["id", "title", "anonymity", "schedule", "questions", "locales", "file", "versions", "rounds"])
                for s in surveys {
                    let d = s.definition
                    w.row([.text(d.id), .text(d.title.text(for: "en")), .text(d.anonymity.rawValue),
                           .text(d.schedule?.every.rawValue), .int(d.questions.count),
                           .text(Self.locales(d).joined(separator: " ")), .text(s.file),
                           .int(history[d.id]?.versions ?? 0), .int(history[d.id]?.rounds ?? 0)])
                }
                Terminal.out(w.text)
            case .table:
                var t = TextTable([("id", .left), ("title", .left), ("answers", .left), ("every", .left),
                                   ("questions", .right), ("languages", .left), ("versions", .right), ("rounds", .right)])
                for s in surveys {
                    let d = s.definition
                    t.add([d.id, d.title.text(for: "en"), d.anonymity.rawValue, d.schedule?.every.rawValue ?? "–",
                           "\(d.questions.count)", Self.locales(d).joined(separator: " "),
                           "\(history[d.id]?.versions ?? 0)", "\(history[d.id]?.rounds ?? 0)"])
                }
                Terminal.out(t.render(style: Terminal.style))
            }
        }

        static func locales(_ d: SurveyDefinition) -> [String] {
            Array(Set(d.questions.flatMap(\.text.locales) + d.title.locales)).sorted()
        }
    }
}
