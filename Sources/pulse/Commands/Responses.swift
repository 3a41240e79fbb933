import ArgumentParser
import Foundation
import PulseCore
import PulseStore

extension Pulse {
    struct Responses: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "responses",
            abstract: "Answers collected outside Pulse.",
            subcommands: [Import.self, Export.self])
    }
}

extension Pulse.Responses {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Import answers from a CSV file (all or nothing).",
            discussion: """
                Columns: email (or token), survey, period, submitted_at, then one column per question id. \
                Each answer is checked against the survey version its round uses. Answers to an \
                anonymous survey are stored with no link to the rep.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The responses CSV.", valueName: "file"), completion: .csvFile)
        var file: String

        @Option(name: .customLong("map"), help: ArgumentHelp("Read a column from another header: column=Header (repeatable).", valueName: "column=Header"))
        var map: [String] = []

        func run() async throws {
            let surveys = try global.loadSurveys().mapValues(\.definition)
            let known = ResponsesImport.fixedColumns + Set(surveys.values.flatMap { $0.questions.map(\.id) }).sorted()
            let renames = try ColumnLayout.parseMap(map, known: known)
            let reader = try CSVReader(bytes: try readBytes(file), file: (file as NSString).lastPathComponent)
            let config = try global.loadConfig()
            let store = try await global.openStore(config: config, startsWorkspace: true)
            let s = try await store.importResponses(reader, surveys: surveys, map: renames, threshold: config.anonymityThreshold, now: global.now)
            s.warnings.forEach(Terminal.warn)
            if s.anonymousAlreadyAnswered > 0 {
                Terminal.warn("\(s.anonymousAlreadyAnswered) anonymous answers were from reps who had already answered that round; anonymous answers cannot be replaced, so the earlier ones stay")
            }
            if !s.roundsCreated.isEmpty {
                let opened = s.roundsCreated
                Terminal.note(opened.count <= 6 ? "rounds opened for imported answers: \(opened.joined(separator: ", "))"
                    : "\(opened.count) rounds opened for imported answers: \(opened.prefix(3).joined(separator: ", ")) and \(opened.count - 3) more, to \(opened.last!)")
            }
            Terminal.note("responses: \(s.added) added, \(s.updated) updated, \(s.unchanged) unchanged")
        }
    }
}
