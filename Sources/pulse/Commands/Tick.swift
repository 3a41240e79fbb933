import ArgumentParser
import Foundation
import PulseCore
import PulseMail
import PulseStore

extension Pulse {
    struct Tick: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tick",
            abstract: "Do everything that is due now: close rounds, open and send scheduled ones, remind, retry.",
            discussion: """
                Safe from cron every few minutes, also as two overlapping runs: a rep is invited once \
                per round (one transaction decides it) and a message is claimed by one process at a time. \
                A scheduled survey goes out at its local time in each rep's own time zone (pulse.yaml's \
                timezone for reps without one), in the period of the rep's own calendar; each invitation \
                stays open close_after_days from when it is sent, and a round closes when its last \
                invitation does. A broken survey file stops only its own survey: the others are done, \
                then the file is named and the exit code is 65.
                """)

        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("Seconds to keep retrying transient failures.", valueName: "seconds"))
        var maxWait: Double = 30
        @Flag(help: "Say what tick would do now and why; change and send nothing.") var dryRun = false

        func run() async throws {
            let setup = try await MailSetup(global)
            let surveys = try setup.surveys()
            try await surveys.reportingBroken { () async throws(PulseError) in try await tick(setup, surveys) }
        }

        func tick(_ setup: MailSetup, _ surveys: SurveySet) async throws(PulseError) {
            let now = global.now
            let stamp = Timestamp.string(now)
            // Survey ids, emails and zones come from files: escaped, so they cannot drive a terminal.
            func say(_ s: String) { Terminal.result(s) }
            let store = setup.store, composer = setup.composer
            for closed in try await store.closeDueRounds(now: now, dryRun: dryRun) {
                say(dryRun ? "would close \(closed) (its last invitation's window has ended)" : "closed \(closed)")
                let parts = closed.split(separator: " ")
                if !dryRun, parts.count == 2, let period = Period(String(parts[1])) {
                    try await awaitHeldAnswers(store, survey: String(parts[0]), period: period, clock: global.clock)
                }
            }
            let fallbackZone = setup.config.timezone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: PulseConfig.Default.timezone)!
            let reps = try await store.reps(includeInactive: false, team: nil)
            func zone(_ rep: Rep) -> TimeZone { rep.timezone.flatMap(TimeZone.init(identifier:)) ?? fallbackZone }
            for (id, entry) in surveys.valid.sorted(by: { $0.key < $1.key }) {
                let survey = entry.definition
                guard let schedule = survey.schedule, let time = schedule.time else { continue }
                let at = "\(schedule.on ?? "monday") \(Self.two(time.hour)):\(Self.two(time.minute)) local"
                // Each rep by their own calendar: east of UTC a new week can begin while the
                // west is still in the last one.
                var due: [Period: Set<Int64>] = [:]
                for rep in reps {
                    if let d = schedule.due(at: now, zone: zone(rep)), let rid = rep.id { due[d.period, default: []].insert(rid) }
                }
                for (period, ids) in due.sorted(by: { $0.key < $1.key }) {
                    // A new round stays open until the last rep's window ends.
                    let closes = schedule.roundCloses(in: period, zones: Array(Set(reps.map(zone))), now: now)
                    let committed = QueuedCount()
                    do {
                        let request = InvitationRequest(survey: survey, period: period, closesAt: closes, openDays: schedule.openDays,
                                                        minGroupSize: setup.config.anonymityThreshold,
                                                        only: ids)
                        // In chunks: a server on the same database answers between them.
                        let s = try await store.queueInvitations(request, chunk: InvitationRequest.chunk, key: setup.key, now: now,
                                                                 dryRun: dryRun, render: { draft in try composer.render(draft, now: now) },
                                                                 committed: { committed.value = $0 })
                        if dryRun {
                            if !s.queued.isEmpty {
                                say("\(id) \(period): would \(s.roundCreated ? "open the round and " : "")invite "
                                    + "\(Plural.count(s.queued.count, "rep")) (their send time, \(at), has come)"
                                    + (s.skipped > 0 ? "; \(s.skipped) already invited" : ""))
                            }
                        } else if s.roundCreated || !s.queued.isEmpty {
                            Terminal.result("\(id) \(period): \(Plural.count(s.queued.count, "invitation")) queued")
                        }
                    } catch {
                        // What the chunks before the error queued is queued, and goes out.
                        if !dryRun && committed.value > 0 {
                            Terminal.result("\(id) \(period): \(Plural.count(committed.value, "invitation")) queued")
                        }
                        // A closed round, or answers imported for this period: nothing more goes
                        // out for it, and that is no news on every run.
                        guard error.exitCode == 64 else { throw error }
                        if dryRun { say("\(id) \(period): nothing goes out (\(error.description))") }
                    }
                }
                if dryRun {
                    let waiting = reps.filter { rep in !due.contains { $0.value.contains(rep.id ?? -1) } }
                    if let first = waiting.map({ ($0, schedule.next(after: now, zone: zone($0))) }).min(by: { $0.1.sendAt < $1.1.sendAt }) {
                        say("\(id): \(Plural.count(waiting.count, "rep")) not yet due; the next is \(first.0.email) for \(first.1.period) "
                            + "at \(Timestamp.string(first.1.sendAt)) (\(at), \(zone(first.0).identifier))")
                    }
                }
            }
            let reminders = setup.config.reminders
            for round in try await store.openSentRounds(now: now) {
                let (survey, period) = (round.survey, round.period)
                do {
                    let request = ReminderRequest(survey: survey, period: period, max: reminders?.max ?? PulseConfig.Default.reminderMax,
                                                  minDaysApart: reminders?.minDaysApart ?? PulseConfig.Default.reminderMinDaysApart,
                                                  minGroupSize: setup.config.anonymityThreshold)
                    let s = try await store.queueReminders(request, key: setup.key, now: now, dryRun: dryRun) { draft in
                        try composer.render(draft, now: now)
                    }
                    if !s.queued.isEmpty {
                        say("\(survey) \(period): \(Plural.count(s.queued.count, "reminder")) \(dryRun ? "would be queued" : "queued")")
                    }
                } catch {
                    guard error.exitCode == 64 else { throw error }
                }
            }
            if dryRun {
                say("dry run at \(stamp): nothing was stored or sent")
            } else {
                try await setup.dispatch(maxWait: maxWait)
            }
        }

        static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
    }
}
