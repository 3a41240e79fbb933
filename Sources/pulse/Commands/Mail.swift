import ArgumentParser
import Foundation
import PulseCore
import PulseMail
import PulseStore

/// What sending needs, built from the configuration.
struct MailSetup {
    let config: PulseConfig
    let store: any WorkspaceStore
    let composer: MailComposer
    /// The secret the links are made with (`nil` where nothing is rendered).
    private let linkKey: TokenKey?
    let global: GlobalOptions

    /// - Parameter makesLinks: whether the command writes links (and needs the key).
    init(_ global: GlobalOptions, makesLinks: Bool = true) async throws(PulseError) {
        self.global = global
        config = try global.loadConfig()
        composer = try MailComposer(config: config)
        store = try await global.openStore(config: config)
        // The token secret is never in the database: beside a SQLite file, or in the
        // environment of every instance on PostgreSQL.
        linkKey = makesLinks ? try global.tokenKey(config: config) : nil
    }

    var key: TokenKey { linkKey! }

    func transport() throws(PulseError) -> any MailTransport { try Self.transport(config: config, global: global) }

    /// The transport the configuration names (SMTP with its password from the environment).
    static func transport(config: PulseConfig, global: GlobalOptions) throws(PulseError) -> any MailTransport {
        let mail = config.mail
        switch mail?.transport ?? PulseConfig.Default.transport {
        case "smtp":
            let smtp = mail?.smtp
            let url = smtp?.url ?? PulseConfig.Default.smtpURL
            guard url.hasPrefix("smtp://") || url.hasPrefix("smtps://") else {
                throw .input(InputIssue(file: global.configPath, field: "mail.smtp.url", "\"\(URLUserInfo.redacted(url))\" is not an smtp:// or smtps:// address"))
            }
            var password: String?
            if let user = smtp?.user, !user.isEmpty {
                let variable = smtp?.passwordEnv ?? PulseConfig.Default.passwordEnv
                guard let p = ProcessInfo.processInfo.environment[variable], !p.isEmpty else {
                    throw .runtime("mail.smtp.user is set but the environment variable \(variable) holding the password is empty")
                }
                password = p
            }
            return SMTPTransport(url: url, tls: SMTPTransport.TLS(rawValue: smtp?.tls ?? PulseConfig.Default.tls) ?? .required,
                                 user: smtp?.user, password: password, timeoutSeconds: smtp?.timeoutSeconds ?? PulseConfig.Default.timeoutSeconds,
                                 caFile: smtp?.caFile)
        default:
            return FileTransport(directory: mail?.outboxDir ?? PulseConfig.Default.outboxDir)
        }
    }

    func dispatcher() throws(PulseError) -> Dispatcher {
        let smtp = config.mail?.smtp
        var progress: (@Sendable (Int) -> Void)?
        if Terminal.showsProgress {
            // Outcomes are counted a batch at a time: a line each time a hundred is passed.
            let shown = ShownHundreds()
            progress = { (n: Int) in
                if shown.passes(n) { Terminal.progress("sent \(n)") }
            }
        }
        return Dispatcher(store: store, transport: try transport(), connections: smtp?.maxConnections ?? PulseConfig.Default.maxConnections,
                          ratePerMinute: smtp?.ratePerMinute ?? PulseConfig.Default.ratePerMinute, maxAttempts: smtp?.maxAttempts ?? PulseConfig.Default.maxAttempts,
                          retryBase: smtp?.retryBaseSeconds ?? PulseConfig.Default.retryBaseSeconds, progress: progress, clock: global.clock)
    }

    /// Sends what is due and says what happened; a stop that needs a person is exit 1.
    /// - Parameter summaryAsResult: the "outbox: N sent" line on stdout, as a result; a
    ///   command whose stdout is JSON or CSV says it on stderr instead.
    /// - Parameter queue: what queues messages while the first go out (the rest of a round,
    ///   a chunk at a time); its error is thrown once what it queued has been sent.
    func dispatch(maxWait: TimeInterval, summaryAsResult: Bool = true,
                  alongside queue: (@Sendable () async throws(PulseError) -> Void)? = nil) async throws(PulseError) {
        let d = try dispatcher()
        var report: DispatchReport, queueing: PulseError?
        if let queue {
            (report, queueing) = try await d.run(maxWait: maxWait, alongside: queue)
        } else {
            report = try await d.run(maxWait: maxWait)
        }
        if Terminal.stderrIsTTY && report.sent >= 100 { Terminal.note("") }
        var parts = ["\(report.sent) sent via \(d.transport.description)"]
        if report.failed > 0 { parts.append("\(report.failed) failed (pulse outbox --status failed)") }
        if report.pending > 0 { parts.append("\(report.pending) queued for a later run") }
        if summaryAsResult {
            Terminal.result("outbox: " + parts.joined(separator: ", "))
        } else {
            Terminal.note("outbox: " + parts.joined(separator: ", "))
        }
        if let queueing { throw queueing }
        if let fatal = report.fatal {
            throw .runtime("\(fatal); the messages stay queued and go out on the next run")
        }
        // Nothing went out and what waits has been tried: the server is not taking mail.
        if report.sent == 0 && report.pending > 0,
           let last = try await store.outbox(status: "queued", limit: 1).first?.lastError {
            throw .runtime("nothing could be sent (\(last)); \(report.pending) messages stay queued for the next run")
        }
    }

    /// The surveys folder, file by file: a broken file stops only its own survey.
    func surveys() throws(PulseError) -> SurveySet { try SurveyFiles.loadEach(directory: global.surveysPath) }

    /// The period of a survey that holds a day: a week unless its schedule says otherwise.
    static func currentPeriod(_ survey: SurveyDefinition, today: Day) -> Period {
        Period.containing(today, kind: survey.schedule?.periodKind ?? .week)
    }
}

extension Pulse {
    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "send",
            abstract: "Open the round of a survey and mail each active rep a personal invitation.",
            discussion: """
                Idempotent: running it again invites only those not yet invited. Every message is \
                written to the outbox before it is sent; what cannot be sent now stays queued.
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The survey id.", valueName: "survey"), completion: .surveyIDs) var survey: String
        @Option(help: ArgumentHelp("The period (the current one by default).", valueName: "period")) var period: Period?
        @Option(help: ArgumentHelp("Only this team.", valueName: "team")) var team: String?
        @Flag(help: "Show who would get what; send and store nothing.") var dryRun = false
        @Flag(help: "Send for a period that is neither the current nor the next one.") var force = false
        @Option(help: ArgumentHelp("Seconds to keep retrying transient failures.", valueName: "seconds"))
        var maxWait: Double = 60

        func run() async throws {
            let setup = try await MailSetup(global)
            let surveys = try setup.surveys()
            let definition = try surveys.definition(survey)
            let current = MailSetup.currentPeriod(definition, today: global.today)
            let p = period ?? current
            if let kind = definition.schedule?.periodKind, kind != p.kind {
                throw PulseError.usage("\(survey) runs every \(definition.schedule!.every.rawValue): give a \(kind.rawValue) period, not \(p)")
            }
            // A typo in a period (2026-W84 for W48, last year's quarter) would mail every rep
            // a survey about a time that has passed or is far off.
            if p.kind == current.kind, p != current, p != current.next, !force {
                throw PulseError.usage("\(p) is neither the current \(p.kind.rawValue) (\(current)) nor the next (\(current.next)): "
                    + "its invitations would ask about a \(p.kind.rawValue) " + (p < current ? "that has passed" : "still to come")
                    + "; pass --force to send it anyway")
            }
            try await surveys.reportingBroken { () async throws(PulseError) in
                let now = global.now
                let days = definition.schedule?.openDays ?? 7
                let closes = now.addingTimeInterval(Double(days) * 86_400)
                let composer = setup.composer
                let request = InvitationRequest(survey: definition, period: p, team: team, closesAt: closes, openDays: days,
                                                minGroupSize: setup.config.anonymityThreshold)
                let store = setup.store, key = setup.key
                let render: MessageRenderer = { draft in try composer.render(draft, now: now) }
                // The first chunk before anything is sent (a wrong team or a closed round
                // stops here); the rest while it goes out.
                let chunk = InvitationRequest.chunk
                var firstChunk = request
                firstChunk.limit = dryRun ? nil : chunk
                let summary = try await store.queueInvitations(firstChunk, key: key, now: now, dryRun: dryRun, render: render)
                if dryRun {
                    var t = TextTable([("to", .left), ("subject", .left)])
                    for q in summary.queued { t.add([q.email, q.subject]) }
                    Terminal.out(t.render(style: Terminal.style))
                    Terminal.result("dry run: \(Plural.count(summary.queued.count, "invitation")) would go out for \(survey) \(p)"
                        + (summary.skipped > 0 ? " (\(summary.skipped) reps already invited)" : "") + "; nothing was stored or sent")
                    return
                }
                let opened = summary.roundCreated, skipped = summary.skipped, survey = survey
                let queued: @Sendable (Int) -> Void = { n in
                    Terminal.result("\(survey) \(p): round \(opened ? "opened" : "already open"), "
                        + "\(Plural.count(n, "invitation")) queued"
                        + (skipped > 0 ? ", \(Plural.count(skipped, "rep")) already invited" : ""))
                }
                guard summary.remaining > 0 else {
                    queued(summary.queued.count)
                    return try await setup.dispatch(maxWait: maxWait)
                }
                let first = summary.queued.count
                try await setup.dispatch(maxWait: maxWait) { [request] () async throws(PulseError) in
                    // Said however the queueing ends: what was queued before an error goes out.
                    let more = QueuedCount()
                    defer { queued(first + more.value) }
                    _ = try await store.queueInvitations(request, chunk: chunk, key: key, now: now, dryRun: false, render: render,
                                                         committed: { more.value = $0 })
                }
            }
        }
    }

    struct Remind: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remind",
            abstract: "Mail a reminder to the reps who have not answered.",
            discussion: "At most reminders.max per rep and round, at least reminders.min_days_apart days apart.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The survey id.", valueName: "survey"), completion: .surveyIDs) var survey: String
        @Option(help: ArgumentHelp("The period (the current one by default).", valueName: "period")) var period: Period?
        @Flag(help: "Show who would be reminded; send and store nothing.") var dryRun = false
        @Option(help: ArgumentHelp("Seconds to keep retrying transient failures.", valueName: "seconds"))
        var maxWait: Double = 60

        func run() async throws {
            let setup = try await MailSetup(global)
            let surveys = try setup.surveys()
            let definition = try surveys.definition(survey)
            let p = period ?? MailSetup.currentPeriod(definition, today: global.today)
            try await surveys.reportingBroken { () async throws(PulseError) in
                let now = global.now
                let reminders = setup.config.reminders
                let composer = setup.composer
                let request = ReminderRequest(survey: survey, period: p, max: reminders?.max ?? PulseConfig.Default.reminderMax,
                                              minDaysApart: reminders?.minDaysApart ?? PulseConfig.Default.reminderMinDaysApart,
                                              minGroupSize: setup.config.anonymityThreshold)
                let summary = try await setup.store.queueReminders(request, key: setup.key, now: now, dryRun: dryRun) { draft in
                    try composer.render(draft, now: now)
                }
                Terminal.result("\(survey) \(p): \(Plural.count(summary.queued.count, "reminder")) \(dryRun ? "would be queued" : "queued")")
                if dryRun {
                    let plan = try await setup.store.reminderPlan(request, now: now)
                    var t = TextTable([("rep", .left), ("reminders sent", .right), ("next reminder", .left)])
                    for rep in plan { t.add([rep.email, String(rep.sent), rep.reason]) }
                    Terminal.out(t.render(style: Terminal.style))
                    return
                }
                try await setup.dispatch(maxWait: maxWait)
            }
        }
    }

    struct Outbox: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "outbox",
            abstract: "Show queued, sent and failed messages; --flush sends what is due.")

        @OptionGroup var global: GlobalOptions
        @Option(help: "Only messages with this status: queued, sending, sent or failed.") var status: String?
        @Option(help: "At most this many messages.") var limit = 50
        @Flag(help: "Send what is queued and due now.") var flush = false
        @OptionGroup var output: FormatOption

        func validate() throws {
            if let status, !["queued", "sending", "sent", "failed"].contains(status) {
                throw ValidationError("--status \(status): use queued, sending, sent or failed")
            }
        }

        func run() async throws {
            let store: any WorkspaceStore
            if flush {
                let setup = try await MailSetup(global, makesLinks: false)
                try await setup.dispatch(maxWait: 0, summaryAsResult: output.format == .table)
                store = setup.store
            } else {
                store = try await global.openStore(config: try global.loadConfig())
            }
            let counts = try await store.outboxCounts()
            // What an older Pulse stored can still quote a URL with its user info.
            let entries = try await store.outbox(status: status, limit: limit).map { e in
                var e = e
                e.lastError = e.lastError.map(URLUserInfo.redacted)
                e.serverReply = e.serverReply.map(URLUserInfo.redacted)
                return e
            }
            switch output.format {
            case .json:
                Terminal.out(JSON.object([
                    ("counts", .object(["queued", "sending", "sent", "failed"].map { ($0, .int(counts[$0, default: 0])) })),
                    ("messages", .array(entries.map { e in
                        .object([("id", .int(Int(e.id))), ("kind", .string(e.kind)), ("to", .string(e.recipient)),
                                 ("subject", .string(e.subject)), ("status", .string(e.status)), ("attempts", .int(e.attempts)),
                                 ("message_id", .string(e.messageID)), ("sent_at", .from(e.sentAt)),
                                 ("server_reply", .from(e.serverReply)), ("last_error", .from(e.lastError))])
                    })),
                ]).serialized() + "\n")
            case .csv:
                var w = CSVWriter()
                w.header(["id", "kind", "to", "subject", "status", "attempts", "sent_at", "server_reply", "last_error"])
                for e in entries {
                    w.row([.int(Int(e.id)), .text(e.kind), .text(e.recipient), .text(e.subject), .text(e.status),
                           .int(e.attempts), .text(e.sentAt), .text(e.serverReply), .text(e.lastError)])
                }
                Terminal.out(w.text)
            case .table:
                let style = Terminal.style
                Terminal.out(["queued", "sending", "sent", "failed"].map { "\($0) \(counts[$0, default: 0])" }.joined(separator: " · ") + "\n\n")
                var t = TextTable([("kind", .left), ("to", .left), ("status", .left), ("tries", .right), ("detail", .left)])
                for e in entries {
                    let detail = e.status == "sent" ? (e.serverReply ?? "") : (e.lastError ?? "")
                    let statusStyle: ((String) -> String)? = e.status == "failed" ? { style.red($0) } : e.status == "sent" ? { style.green($0) } : nil
                    t.add([e.kind, e.recipient, e.status, "\(e.attempts)", String(detail.prefix(70))], styles: [nil, nil, statusStyle])
                }
                Terminal.out(t.render(style: style))
            }
        }
    }
}

extension Pulse.Rounds {
    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "close", abstract: "Close a round: no more invitations, reminders or answers.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The survey id.", valueName: "survey"), completion: .surveyIDs) var survey: String
        @Option(help: ArgumentHelp("The round's period.", valueName: "period")) var period: Period

        func run() async throws {
            let store = try await global.openStore(config: try global.loadConfig())
            let changed = try await store.closeRound(survey: survey, period: period, now: global.now)
            Terminal.result(changed ? "closed \(survey) \(period)" : "\(survey) \(period) was already closed")
            if changed { try await awaitHeldAnswers(store, survey: survey, period: period, clock: global.clock) }
        }
    }
}

/// After a round closes, a running `serve` writes the anonymous answers it holds for it
/// within a second or two: waits for that (up to ten seconds), and says what became of
/// them.
func awaitHeldAnswers(_ store: any RoundStore, survey: String, period: Period, clock: () -> Date) async throws(PulseError) {
    guard let round = try await store.rounds(survey: survey).first(where: { $0.period == period }) else { return }
    var held = try await store.heldAnswerCount(roundID: round.id, now: clock())
    let deadline = Date().addingTimeInterval(10)
    while held > 0 && Date() < deadline {
        try? await Task.sleep(for: .milliseconds(100))
        held = try await store.heldAnswerCount(roundID: round.id, now: clock())
    }
    if held > 0 {
        Terminal.warn("\(held) anonymous \(held == 1 ? "answer" : "answers") to \(survey) \(period) are still held by a "
            + "pulse serve: it writes them within seconds while it runs; a serve that stopped without writing them lost them, "
            + "and those reps count as not having answered")
    }
    let notKept = try await store.answersNotKept(roundID: round.id)
    if notKept > 0 {
        Terminal.note("\(notKept) anonymous \(notKept == 1 ? "answer" : "answers") to \(survey) \(period) not kept: the round "
            + "ended with fewer than min_group_size answers, and no figure may single anyone out")
    }
}

/// The last hundred of messages a progress line was shown for.
final class ShownHundreds: @unchecked Sendable {
    private let lock = NSLock()
    private var last = 0

    /// Whether `count` reaches a hundred no line was shown for yet.
    func passes(_ count: Int) -> Bool {
        lock.withLock {
            guard count / 100 > last / 100 else { return false }
            last = count
            return true
        }
    }
}

/// How many invitations the chunks of a round have queued so far.
final class QueuedCount: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    var value: Int {
        get { lock.withLock { count } }
        set { lock.withLock { count = newValue } }
    }
}
