import ArgumentParser
import Foundation
import PulseCore
import PulseStore
import PulseService

extension Day: ExpressibleByArgument {
    public init?(argument: String) { self.init(iso: argument) }
}

/// md, html, json; `table` (the default elsewhere) reads as Markdown here.
enum DocumentFormat: String, ExpressibleByArgument, CaseIterable {
    case md, html, json, table

    var fileExtension: String {
        switch self {
        case .md, .table: "md"
        case .html: "html"
        case .json: "json"
        }
    }
}

/// Where documents go: a folder made if needed, file names that cannot climb out of it.
enum OutputFolder {
    static func prepare(_ path: String) throws(PulseError) -> URL {
        let url = URL(fileURLWithPath: path)
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw .usage("--out \(path) is a file; give a folder") }
        } else {
            do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
            catch { throw .runtime("--out \(path): cannot create the folder (\(error.localizedDescription))") }
        }
        return url
    }

    /// A file name from free text (an email, a team): letters, digits, `.`, `-`, `_`, `@` only.
    static func safeName(_ s: String) -> String {
        let kept = s.lowercased().unicodeScalars.map { c -> Character in
            CharacterSet.alphanumerics.contains(c) || "@.-_".unicodeScalars.contains(c) ? Character(c) : "-"
        }
        let name = String(kept).trimmingCharacters(in: CharacterSet(charactersIn: ".-"))
        return name.isEmpty ? "unnamed" : name
    }

    static func write(_ text: String, to folder: URL, name: String) throws(PulseError) -> URL {
        let file = folder.appendingPathComponent(name)
        do { try Data(text.utf8).write(to: file, options: .atomic) }
        catch { throw .runtime("\(file.path): cannot be written (\(error.localizedDescription))") }
        return file
    }
}

extension Pulse {
    struct Prep: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prep",
            abstract: "A one-on-one preparation note: what changed, what to ask, what was promised.",
            discussion: """
                Morale: the latest week with an answer on or before --as-of against the rep's baseline (the mean \
                of the four weeks before, from two answered weeks), a trend, and what moved per question. eNPS: \
                the rep's own answers for an identified survey; for an anonymous one only the team's figure, \
                above the anonymity threshold. KPIs of the last full week against the rep's own average and \
                the team's median, and the quota period to date with its pace. Flags (thresholds under prep: \
                in pulse.yaml) with open questions to ask, the rep's comments of the last four weeks, and the \
                open action items of earlier one-on-ones. With --manager or --team, one file per active rep.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The rep's email.", valueName: "email")) var email: String?
        @Option(help: ArgumentHelp("A note for each active rep of this manager.", valueName: "email")) var manager: String?
        @Option(help: ArgumentHelp("A note for each active rep of this team.", valueName: "team")) var team: String?
        @Option(help: ArgumentHelp("The day to prepare for (default today).", valueName: "YYYY-MM-DD")) var asOf: Day?
        @Option(help: "md, html or json (table reads as md).") var format: DocumentFormat = .md
        @Option(help: ArgumentHelp("Write files into this folder instead of printing.", valueName: "dir"), completion: .directory) var out: String?

        func validate() throws {
            let chosen = [email != nil, manager != nil, team != nil].filter { $0 }.count
            guard chosen == 1 else { throw ValidationError("give one rep's email, or --manager EMAIL, or --team T") }
        }

        func run() async throws {
            let config = try global.loadConfig()
            let db = try await global.openStore(config: config)
            let day = asOf ?? global.today
            let surveys = try global.loadSurveys().mapValues(\.definition)
            var reps: [Rep]
            if let email {
                guard let rep = try await db.rep(email: email) else { throw try await unknownRep(email, db: db) }
                reps = [rep]
            } else if let manager {
                reps = try await db.reps(includeInactive: false, team: nil).filter { $0.managerEmail?.lowercased() == manager.lowercased() }
                guard !reps.isEmpty else { throw PulseError.input(InputIssue(file: "roster", field: "manager_email", "no active rep has the manager \(manager)")) }
            } else {
                reps = try await db.reps(includeInactive: false, team: team)
                guard !reps.isEmpty else {
                    let teams = Set(try await db.reps(includeInactive: false, team: nil).compactMap(\.team)).sorted()
                    throw Closest.unknown("team with active reps", team!, known: teams, listLabel: "the teams are")
                }
            }
            let builder = try await PrepBuilder(db: db, surveys: surveys, config: config, asOf: day, notesFor: reps)
            if email != nil && out == nil {
                let note = try await builder.note(for: reps[0])
                Terminal.out(render(note))
                return
            }
            let shown = out ?? "prep"
            let folder = try OutputFolder.prepare(shown)
            for rep in reps {
                let note = try await builder.note(for: rep)
                let name = "\(OutputFolder.safeName(rep.email))-\(day).\(format.fileExtension)"
                _ = try OutputFolder.write(render(note), to: folder, name: name)
                if reps.count == 1 { Terminal.note("wrote \((shown as NSString).appendingPathComponent(name))") }
            }
            if reps.count > 1 { Terminal.note("wrote \(reps.count) notes to \(shown)") }
        }

        func render(_ note: PrepNote) -> String {
            switch format {
            case .json: note.json.serialized() + "\n"
            case .md, .table: note.markdown
            case .html: note.html
            }
        }

    }

    struct Notes: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "notes",
            abstract: "Notes of one-on-ones and the actions agreed in them.",
            subcommands: [Add.self, List.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "add",
                abstract: "Keep a note of a one-on-one, with the actions agreed (they show in the next prep notes until done).")
            @OptionGroup var global: GlobalOptions
            @Argument(help: ArgumentHelp("The rep's email.", valueName: "email")) var email: String
            @Option(help: ArgumentHelp("What was said.", valueName: "text")) var text: String
            @Option(name: .customLong("action"), help: ArgumentHelp("An action agreed (repeatable).", valueName: "text"))
            var actions: [String] = []

            func validate() throws {
                guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw ValidationError("--text is empty") }
                guard actions.allSatisfy({ !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }) else {
                    throw ValidationError("an --action is empty")
                }
            }

            func run() async throws {
                let db = try await global.openStore(config: try global.loadConfig())
                guard let rep = try await db.rep(email: email) else { throw try await unknownRep(email, db: db) }
                let (id, actionIDs) = try await db.addNote(rep: rep, text: text, actions: actions, now: global.now)
                Terminal.note("note \(id) kept for \(rep.email)" + (actionIDs.isEmpty ? "" : "; actions \(actionIDs.map { "#\($0)" }.joined(separator: ", ")) open"))
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "list", abstract: "A rep's one-on-one notes, newest first, with their actions.")
            @OptionGroup var global: GlobalOptions
            @Argument(help: ArgumentHelp("The rep's email.", valueName: "email")) var email: String
            @OptionGroup var output: FormatOption

            func run() async throws {
                let db = try await global.openStore(config: try global.loadConfig())
                guard let rep = try await db.rep(email: email) else { throw try await unknownRep(email, db: db) }
                let notes = try await db.notes(rep: rep)
                switch output.format {
                case .json:
                    Terminal.out(JSON.array(notes.map { n in
                        .object([("id", .int(Int(n.id))), ("created_at", .string(n.createdAt)), ("text", .string(n.text)),
                                 ("actions", .array(n.actions.map { a in
                                     .object([("id", .int(Int(a.id))), ("text", .string(a.text)), ("done_at", .from(a.doneAt))])
                                 }))])
                    }).serialized() + "\n")
                case .csv:
                    var w = CSVWriter()
                    w.header(["note", "created_at", "text", "action", "action_text", "done_at"])
                    for n in notes {
                        if n.actions.isEmpty { w.row([.int(Int(n.id)), .text(n.createdAt), .text(n.text), .int(nil), .text(nil), .text(nil)]) }
                        for a in n.actions {
                            w.row([.int(Int(n.id)), .text(n.createdAt), .text(n.text), .int(Int(a.id)), .text(a.text), .text(a.doneAt)])
                        }
                    }
                    Terminal.out(w.text)
                case .table:
                    if notes.isEmpty { Terminal.out(TerminalText.escaped("No notes for \(rep.email) yet (pulse notes add \(rep.email) --text ...)") + "\n"); return }
                    var s = ""
                    for n in notes {
                        s += "#\(n.id) · \(n.createdAt.prefix(10))\n  \(n.text.replacingOccurrences(of: "\n", with: "\n  "))\n"
                        for a in n.actions { s += "  [\(a.doneAt == nil ? " " : "x")] #\(a.id) \(a.text)\(a.doneAt.map { " (done \($0.prefix(10)))" } ?? "")\n" }
                        s += "\n"
                    }
                    // Notes and actions are free text: shown with their control characters escaped.
                    Terminal.out(TerminalText.escapedLines(s))
                }
            }
        }
    }

    struct Actions: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "actions",
            abstract: "Action items of one-on-ones: list the open ones, mark one done.",
            subcommands: [Done.self, List.self])

        struct Done: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "done", abstract: "Mark an action item done (it leaves the prep notes).")
            @OptionGroup var global: GlobalOptions
            @Argument(help: ArgumentHelp("The action's number (pulse actions list, or the prep note).", valueName: "id")) var id: Int64

            func run() async throws {
                let db = try await global.openStore(config: try global.loadConfig())
                guard let item = try await db.completeAction(id: id, now: global.now) else {
                    throw PulseError.input(InputIssue(file: "actions", field: "id", "there is no action #\(id) (pulse actions list shows the open ones)"))
                }
                if let done = item.doneAt {
                    Terminal.note("action #\(id) was already done on \(done.prefix(10)): \(item.text)")
                } else {
                    Terminal.note("action #\(id) done: \(item.text) (\(item.email))")
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "list", abstract: "Open action items, of one rep or of everyone.")
            @OptionGroup var global: GlobalOptions
            @Argument(help: ArgumentHelp("Only this rep's.", valueName: "email")) var email: String?
            @OptionGroup var output: FormatOption

            func run() async throws {
                let db = try await global.openStore(config: try global.loadConfig())
                var repID: Int64?
                if let email {
                    guard let rep = try await db.rep(email: email) else { throw try await unknownRep(email, db: db) }
                    repID = rep.id
                }
                let items = try await db.openActions(repID: repID, asOf: global.today)
                switch output.format {
                case .json:
                    Terminal.out(JSON.array(items.map {
                        .object([("id", .int(Int($0.id))), ("email", .string($0.email)), ("text", .string($0.text)), ("since", .string($0.since))])
                    }).serialized() + "\n")
                case .csv:
                    var w = CSVWriter()
                    w.header(["id", "email", "text", "since"])
                    for a in items { w.row([.int(Int(a.id)), .text(a.email), .text(a.text), .text(a.since)]) }
                    Terminal.out(w.text)
                case .table:
                    var t = TextTable([("#", .right), ("rep", .left), ("action", .left), ("since", .left)])
                    for a in items { t.add(["\(a.id)", a.email, a.text, a.since]) }
                    Terminal.out(items.isEmpty ? "No open actions.\n" : t.render(style: Terminal.style))
                }
            }
        }
    }
}

/// An email that is not in the roster (exit 65), with the closest addresses that are.
func unknownRep(_ email: String, db: any RosterStore) async throws -> PulseError {
    unknownRep(email, known: try await db.reps(includeInactive: true, team: nil).map(\.email))
}

func unknownRep(_ email: String, known: [String]) -> PulseError {
    let wanted = email.lowercased()
    let close = known.map { ($0, editDistance($0, wanted)) }.filter { $0.1 <= 2 }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
    let hint = close.isEmpty ? " (pulse roster list shows who is)" : "; did you mean \(close.prefix(3).map(\.0).joined(separator: " or "))?"
    return .input(InputIssue(file: wanted, "not in the roster\(hint)"))
}

/// Levenshtein distance, for "did you mean".
func editDistance(_ a: String, _ b: String) -> Int { Closest.distance(a, b) }

extension Pulse {
    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "A team report to look at: eNPS over time, a morale heatmap, response rates, morale against a KPI.",
            discussion: """
                One self-contained HTML file (inline SVG charts, no script, nothing fetched, prints well), or \
                Markdown or JSON. With --team, the heatmap shows the team's reps (for an identified survey); \
                without, every team. Groups under the anonymity threshold are hidden as in every report. \
                The range defaults to the twelve weeks up to --as-of.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("One team (all teams without it).", valueName: "team")) var team: String?
        @Option(help: ArgumentHelp("First week (included).", valueName: "period")) var from: Period?
        @Option(help: ArgumentHelp("Last week (included).", valueName: "period")) var to: Period?
        @Option(help: ArgumentHelp("The day the default range ends on (default today).", valueName: "YYYY-MM-DD")) var asOf: Day?
        @Option(help: ArgumentHelp("The morale survey.", valueName: "id"), completion: .surveyIDs) var survey = "weekly-pulse"
        @Option(help: ArgumentHelp("The eNPS survey (default: enps, or the first with an eNPS question).", valueName: "id"))
        var enpsSurvey: String?
        @Option(help: ArgumentHelp("The KPI set against morale.", valueName: "kpi")) var kpi: KPI = .activity
        @Option(help: "html, md or json (table reads as md).") var format: DocumentFormat = .html
        @Option(help: ArgumentHelp("Write the file into this folder instead of printing.", valueName: "dir"), completion: .directory) var out: String?

        func run() async throws {
            let config = try global.loadConfig()
            let db = try await global.openStore(config: config)
            let surveys = try global.loadSurveys().mapValues(\.definition)
            let day = asOf ?? global.today
            let last = to ?? Period.week(of: day)
            let first = from ?? Period.week(of: last.start - 7 * 11)
            let range = try PeriodRange(from: Period.week(of: first.start), to: Period.week(of: last.end))
            if let team, try await db.reps(includeInactive: true, team: team).isEmpty {
                throw Closest.unknown("team", team, known: Set(try await db.reps(includeInactive: true, team: nil).compactMap(\.team)).sorted(),
                                      listLabel: "the teams are")
            }
            let report = try await TeamReportBuilder(db: db, surveys: surveys, threshold: config.anonymityThreshold).build(
                team: team, range: range, moraleSurvey: survey, enpsSurvey: enpsSurvey, kpi: kpi, generated: day)
            let text: String
            switch format {
            case .html: text = report.html
            case .md, .table: text = report.markdown
            case .json: text = report.json.serialized() + "\n"
            }
            if let out {
                let folder = try OutputFolder.prepare(out)
                let name = "report-\(OutputFolder.safeName(team ?? "all-teams"))-\(range.from)-\(range.to).\(format.fileExtension)"
                _ = try OutputFolder.write(text, to: folder, name: name)
                Terminal.note("wrote \((out as NSString).appendingPathComponent(name))")
            } else {
                Terminal.out(text)
            }
        }
    }
}

