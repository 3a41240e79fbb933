import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import PulseCore
import PulseMail
import PulseStore
import PulseService
import PulseWeb
import ServiceLifecycle

extension Pulse {
    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "demo",
            abstract: "Build a sample workspace on embedded defaults and run the main flow end to end.",
            discussion: """
                Writes pulse.yaml, the shipped surveys, a roster of 20 reps in three teams and eight \
                weeks of answers, with a half year of opportunities and leads, into DIR; imports them, \
                and prints what a manager would look at. \
                Running it again on a folder it made starts that folder afresh.
                """)

        @Argument(help: ArgumentHelp("The folder to build the workspace in.", valueName: "dir"), completion: .directory)
        var dir: String = "pulse-demo"

        @Option(help: ArgumentHelp("The demo's date (YYYY-MM-DD); today by default.", valueName: "date"))
        var date: String?

        static let marker = ".pulse-demo"

        func validate() throws {
            if let date, Day(iso: date) == nil { throw ValidationError("--date \(date) is not a date as YYYY-MM-DD") }
        }

        func run() async throws {
            let fm = FileManager.default
            let root = (dir as NSString).standardizingPath
            let markerPath = (root as NSString).appendingPathComponent(Self.marker)
            if fm.fileExists(atPath: root) {
                let contents = (try? fm.contentsOfDirectory(atPath: root)) ?? []
                guard contents.isEmpty || fm.fileExists(atPath: markerPath) else {
                    throw PulseError.usage("\(root) exists and was not made by pulse demo; choose another folder")
                }
                try? fm.removeItem(atPath: root)
            }
            func path(_ name: String) -> String { (root as NSString).appendingPathComponent(name) }
            func write(_ name: String, _ text: String) throws {
                guard fm.createFile(atPath: path(name), contents: Data(text.utf8)) else {
                    throw PulseError.runtime("cannot write \(path(name))")
                }
            }
            do {
                try fm.createDirectory(atPath: path("Surveys"), withIntermediateDirectories: true)
            } catch {
                throw PulseError.runtime("cannot create \(root): \(error.localizedDescription)")
            }
            try write(Self.marker, "made by pulse demo; running it again replaces this folder\n")
            try write("pulse.yaml", PulseConfig.demoTemplate)
            for (name, yaml) in DefaultSurveys.all { try write("Surveys/\(name)", yaml) }

            let now = date.flatMap { Day(iso: $0) }.map { Date(timeIntervalSince1970: Double($0.ordinal) * 86_400 + 12 * 3600) } ?? Date()
            let today = Day(ordinal: Int((now.timeIntervalSince1970 / 86_400).rounded(.down)))
            let data = DemoData(today: today)
            try write("roster.csv", data.rosterCSV)
            try write("responses.csv", data.responsesCSV)
            try write("activity.csv", data.activityCSV)
            try write("quota.csv", data.quotaCSV)
            try write("opportunities.csv", data.opportunitiesCSV)
            try write("leads.csv", data.leadsCSV)

            let style = Terminal.style
            let config = try PulseConfig.load(yaml: PulseConfig.demoTemplate, file: "pulse.yaml")
            let surveys = try SurveyFiles.load(directory: path("Surveys")).mapValues(\.definition)
            let db = try AppDatabase.open(path: path("pulse.sqlite"), create: true)
            let store = SQLiteAnswerStore(db)
            Terminal.out(style.bold("Pulse demo") + " · workspace \(root)\n\n")

            let roster = try db.importRoster(try CSVReader(bytes: try readBytes(path("roster.csv")), file: "roster.csv"), now: now)
            let teams = Dictionary(grouping: data.people, by: \.team).mapValues(\.count).sorted { $0.key < $1.key }
            Terminal.out("$ pulse roster import roster.csv\n  \(roster.added) reps in \(teams.count) teams: "
                + teams.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "\n")
            let responses = try db.importResponses(
                try CSVReader(bytes: try readBytes(path("responses.csv")), file: "responses.csv"), surveys: surveys, threshold: config.anonymityThreshold, now: now)
            Terminal.out("$ pulse responses import responses.csv\n  \(responses.added) responses in \(responses.roundsCreated.count) rounds "
                + "(weekly pulse \(data.weeks.first!) to \(data.weeks.last!), anonymous eNPS and engagement "
                + "\(data.quarters.map(\.description).joined(separator: " and ")))\n\n")

            let threshold = config.anonymityThreshold
            let weekRange = try PeriodRange(from: data.weeks.first!, to: data.weeks.last!)
            Terminal.out("$ pulse trends --survey weekly-pulse --by team\n")
            let trends = try await ReportQueries.trends(store, survey: "weekly-pulse", range: weekRange, by: .team, minGroupSize: threshold)
            Terminal.out(indent(trends.table(style: style, minGroupSize: threshold)) + "\n")

            let quarter = PeriodRange(data.quarters.last!)
            Terminal.out("$ pulse enps --survey enps --period \(data.quarters.last!) --by team\n")
            let enps = try await ReportQueries.enps(store, survey: "enps", range: quarter, by: .team, minGroupSize: threshold)
            Terminal.out(indent(enps.table(style: style, minGroupSize: threshold)) + "\n")

            Terminal.out("$ pulse enps --survey enps --period \(data.quarters.last!) --by manager --format json\n")
            let byManager = try await ReportQueries.enps(store, survey: "enps", range: quarter, by: .manager, minGroupSize: threshold)
            Terminal.out("  " + byManager.json.serialized() + "\n\n")

            // What goes with the eNPS answer, from the quarterly engagement survey.
            Terminal.out("$ pulse drivers --survey engagement\n")
            let quarters = try PeriodRange(from: data.quarters.first!, to: data.quarters.last!)
            let drivers = try await ReportQueries.drivers(store, survey: "engagement", range: quarters, minGroupSize: threshold)
            Terminal.out(indent(drivers.table(style: style)) + "\n")

            // Activity from the CRM, and whether morale moves with it.
            let activity = try db.importActivity(try CSVReader(bytes: try readBytes(path("activity.csv")), file: "activity.csv"))
            let quotas = try db.importQuotas(try CSVReader(bytes: try readBytes(path("quota.csv")), file: "quota.csv"))
            Terminal.out("$ pulse kpi import activity.csv && pulse kpi import --quota quota.csv\n  \(activity.added) days of activity"
                + " (\(activity.firstDay!) to \(activity.lastDay!)), \(quotas.added) quarterly quotas\n")
            let opportunities = try db.importOpportunities(
                try CSVReader(bytes: try readBytes(path("opportunities.csv")), file: "opportunities.csv"), options: PipelineImportOptions())
            let leads = try db.importLeads(try CSVReader(bytes: try readBytes(path("leads.csv")), file: "leads.csv"), options: PipelineImportOptions())
            Terminal.out("$ pulse kpi import --opportunities opportunities.csv && pulse kpi import --leads leads.csv\n"
                + "  \(opportunities.added) opportunities and \(leads.added) leads, the half year to \(data.weeks.last!)\n")
            Terminal.out("$ pulse correlate --survey weekly-pulse --kpi calls\n")
            let correlation = try await ReportQueries.correlation(store, survey: "weekly-pulse", anonymous: false, kpi: .calls, lag: 0,
                                                            range: weekRange, byTeam: false, minGroupSize: threshold)
            Terminal.out(indent(correlation.table(style: style)))

            // A round of this week's pulse, mailed to the file outbox; one message shown.
            let week = Period.week(of: today)
            let outboxDir = path("outbox")
            Terminal.out("$ pulse send weekly-pulse --period \(week)\n")
            let composer = try MailComposer(config: config)
            let key = try TokenKey.load(path: path("pulse.sqlite") + ".key")
            var shown: RenderedMessage?
            var tokens: [String: String] = [:]
            let showTo = data.people.first { $0.locale == "th" }?.email ?? data.people[0].email
            let queued = try db.queueInvitations(survey: surveys["weekly-pulse"]!, period: week, team: nil,
                                                 closesAt: now.addingTimeInterval(5 * 86_400), openDays: 5, key: key, now: now,
                                                 dryRun: false) { draft in
                let m = try composer.render(draft, now: now)
                if draft.rep.email == showTo { shown = m }
                tokens[draft.rep.email] = draft.token
                return m
            }
            let report = try await Dispatcher(database: db, transport: FileTransport(directory: outboxDir), connections: 1,
                                        clock: { now }).run(maxWait: 0)
            Terminal.out("  weekly-pulse \(week): round opened, \(queued.queued.count) invitations queued\n")
            Terminal.out("  outbox: \(report.sent) sent via file outbox \(outboxDir)\n")
            if let m = shown {
                Terminal.out("$ cat \(outboxDir)/\(FileTransport.fileName(messageID: m.messageID))   (its plain-text part)\n")
                Terminal.out("  To: \(m.recipient)\n  Subject: \(m.subject)\n\n")
                Terminal.out(indent((m.text ?? "").replacingOccurrences(of: "\r\n", with: "\n")) + "\n\n")
            }

            // The answer pages, on a free port, and this week's answers posted through them.
            Terminal.out("$ pulse serve --port 0 &\n")
            var logger = Logger(label: "pulse.demo")
            logger.logLevel = .warning
            let settings = WebSettings(database: db, key: key, organization: config.organization ?? PulseConfig.Default.organization,
                                       minGroupSize: threshold, clock: { now.addingTimeInterval(3600) })
            let (ports, portSink) = AsyncStream<Int>.makeStream()
            let app = try WebApp.application(settings, host: "127.0.0.1", port: 0, logger: logger) { portSink.yield($0) }
            let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
            let server = Task {
                // If the server cannot start, the wait for its port below ends instead of hanging.
                defer { portSink.finish() }
                try await group.run()
            }
            var portIterator = ports.makeAsyncIterator()
            guard let port = await portIterator.next() else {
                let why = await server.result
                throw PulseError.runtime("the demo's answer pages did not start: \(why)")
            }
            Terminal.out("  answering on http://127.0.0.1:\(port)/s/<token>\n")
            var answered = 0
            let answers = data.webAnswers()
            for (email, fields) in answers {
                guard let token = tokens[email] else { continue }
                var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/s/\(token)")!)
                request.httpMethod = "POST"
                request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
                var allowed = CharacterSet.alphanumerics
                allowed.insert(charactersIn: "-._~")
                request.httpBody = Data(fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }
                    .joined(separator: "&").utf8)
                let (_, response) = try await URLSession.shared.data(for: request)
                if (response as? HTTPURLResponse)?.statusCode == 200 { answered += 1 }
            }
            await group.triggerGracefulShutdown()
            try await server.value
            Terminal.out("  \(answered) of \(data.people.count) reps answered \(week) through their links (POST /s/<token>)\n")
            let recent = try PeriodRange(from: data.weeks[data.weeks.count - 3], to: week)
            Terminal.out("$ pulse trends --survey weekly-pulse --from \(recent.from) --to \(week) --by team\n")
            let latest = TrendsReport.compute(
                survey: "weekly-pulse", range: recent, by: .team,
                periods: try db.roundPeriods(survey: "weekly-pulse", range: recent),
                facts: try db.responseFacts(survey: "weekly-pulse", range: recent, minGroupSize: threshold), minGroupSize: threshold)
            Terminal.out(indent(latest.table(style: style, minGroupSize: threshold)) + "\n")

            // Monday's one-on-one with the rep whose morale fell, and the team's report.
            guard let niran = try db.rep(email: "niran@acme.example") else { throw PulseError.runtime("the demo roster has no niran@acme.example") }
            Terminal.out("$ pulse prep niran@acme.example\n")
            let note = try await PrepBuilder(db: store, surveys: surveys, config: config, asOf: today).note(for: niran)
            Terminal.out(indent(note.markdown))
            let reports = try OutputFolder.prepare(path("reports"))
            let notePath = try OutputFolder.write(note.html, to: reports, name: "niran@acme.example-\(today).html")
            let reportRange = try PeriodRange(from: data.weeks.first!, to: week)
            let teamReport = try await TeamReportBuilder(db: store, surveys: surveys, threshold: threshold).build(
                team: "enterprise", range: reportRange, moraleSurvey: "weekly-pulse", enpsSurvey: nil, kpi: .activity, generated: today)
            let reportPath = try OutputFolder.write(teamReport.html, to: reports,
                                                    name: "report-enterprise-\(reportRange.from)-\(reportRange.to).html")
            Terminal.out("$ pulse prep niran@acme.example --format html --out reports && pulse report --team enterprise --out reports\n")
            Terminal.out("  wrote \(path("reports/" + notePath.lastPathComponent))\n  wrote \(path("reports/" + reportPath.lastPathComponent))\n")
            Terminal.out("  (open them in a browser: one file each, no script, nothing fetched)\n\n")

            Terminal.out("""
                Try it yourself on this workspace:
                  export PULSE_DB=\(path("pulse.sqlite")) PULSE_SURVEYS=\(path("Surveys")) PULSE_CONFIG=\(path("pulse.yaml"))
                  pulse trends --survey weekly-pulse --by all
                  pulse enps --survey enps --by region --format csv
                  pulse correlate --survey weekly-pulse --kpi meetings --lag 1
                  pulse correlate --survey weekly-pulse --kpi pipeline_velocity
                  pulse kpi show --by team --from \(data.weeks.first!) --to \(data.weeks.last!)
                  pulse prep --team enterprise --format html --out prep
                  pulse notes add niran@acme.example --text "Talked about late nights" --action "Move two demos to next week"
                  pulse serve    # then open a link from \(path("outbox")) in a browser

                """)
        }

        func indent(_ s: String) -> String {
            s.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  " + $0 }.joined(separator: "\n")
        }
    }
}
