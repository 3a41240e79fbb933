import ArgumentParser
import Foundation
import PulseCore
import PulseStore

extension Pulse {
    struct Roster: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "roster",
            abstract: "Import, list and deactivate reps.",
            subcommands: [Import.self, List.self, Deactivate.self, Activate.self, Erase.self])
    }
}

extension Pulse.Roster {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Import reps from a CSV file (upsert by email; all or nothing).",
            discussion: "Columns: email (required), name, team, manager_email, region, locale, timezone, start_date, preferred_name (the name mail greets the rep by; the name when empty).")

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The roster CSV.", valueName: "file"), completion: .csvFile)
        var file: String

        @Option(name: .customLong("map"), help: ArgumentHelp("Read a column from another header: column=Header (repeatable).", valueName: "column=Header"))
        var map: [String] = []

        func run() async throws {
            let renames = try ColumnLayout.parseMap(map, known: AppDatabase.rosterColumns)
            let reader = try CSVReader(bytes: try readBytes(file), file: (file as NSString).lastPathComponent)
            let roster = try RosterFile(reader, map: renames)
            let store = try await global.openStore(config: try global.loadConfig(), startsWorkspace: true)
            let s = try await store.importRoster(roster, now: global.now)
            s.warnings.forEach(Terminal.warn)
            let surveys = (try? SurveyFiles.loadEach(directory: global.surveysPath).valid.mapValues(\.definition)) ?? [:]
            try Self.localeWarnings(reader, map: renames, surveys: surveys).forEach(Terminal.warn)
            if !s.inactive.isEmpty {
                Terminal.warn("\(s.inactive.count) rows are deactivated reps, kept inactive (pulse roster activate EMAIL): \(s.inactive.prefix(5).joined(separator: ", "))")
            }
            Terminal.note("roster: \(s.added) added, \(s.updated) updated, \(s.unchanged) unchanged")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the reps.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: FormatOption

        @Option(help: "Only this team.") var team: String?
        @Flag(help: "Include deactivated reps.") var all = false

        func run() async throws {
            let reps = try await global.openStore(config: try global.loadConfig()).reps(includeInactive: all, team: team)
            switch output.format {
            case .json:
                Terminal.out(JSON.array(reps.map { r in
                    .object([("email", .string(r.email)), ("name", .from(r.name)), ("preferred_name", .from(r.preferredName)),
                             ("team", .from(r.team)),
                             ("manager_email", .from(r.managerEmail)), ("region", .from(r.region)),
                             ("locale", .from(r.locale)), ("timezone", .from(r.timezone)),
                             ("start_date", .from(r.startDate)), ("active", .bool(r.active))])
                }).serialized() + "\n")
            case .csv:
                var w = CSVWriter()
                w.header(AppDatabase.rosterColumns + ["active"])
                for r in reps {
                    w.row([.text(r.email), .text(r.name), .text(r.team), .text(r.managerEmail), .text(r.region),
                           .text(r.locale), .text(r.timezone), .text(r.startDate), .text(r.preferredName), .bool(r.active)])
                }
                Terminal.out(w.text)
            case .table:
                let style = Terminal.style
                // The greeting's name only when some rep has one: most rosters do not.
                let greeted = reps.contains { $0.preferredName != nil }
                let titles = ["email", "name"] + (greeted ? ["greeted as"] : []) + ["team", "manager", "region", "locale", "time zone"]
                var t = TextTable(titles.map { ($0, .left) })
                for r in reps {
                    let cells = [r.email, r.name ?? ""] + (greeted ? [r.preferredName ?? ""] : [])
                        + [r.team ?? "", r.managerEmail ?? "", r.region ?? "", r.locale ?? "", r.timezone ?? ""]
                    t.add(cells, styles: r.active ? [] : cells.map { _ in { style.dim($0) } })
                }
                Terminal.out(t.render(style: style))
                let inactive = reps.filter { !$0.active }.count
                Terminal.note("\(reps.count) reps" + (inactive > 0 ? " (\(inactive) deactivated, dimmed)" : ""))
            }
        }
    }

    struct Deactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "deactivate", abstract: "Stop inviting a rep; their history stays.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The rep's email.", valueName: "email")) var email: String

        func run() async throws {
            let changed = try await global.openStore(config: try global.loadConfig()).setActive(email: email, active: false, now: global.now)
            Terminal.note(changed ? "deactivated \(email)" : "\(email) was already deactivated")
        }
    }

    struct Activate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "activate", abstract: "Invite a deactivated rep again.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The rep's email.", valueName: "email")) var email: String

        func run() async throws {
            let changed = try await global.openStore(config: try global.loadConfig()).setActive(email: email, active: true, now: global.now)
            Terminal.note(changed ? "activated \(email)" : "\(email) was already active")
        }
    }
}
