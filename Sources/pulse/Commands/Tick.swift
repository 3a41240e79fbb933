import ArgumentParser
import Foundation
import PulseCore
import PulseMail
import PulseStore

extension Pulse {
    struct Tick: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Do everything that is due now: close rounds, open and send scheduled ones, remind, retry.",
            discussion: """
                Safe from cron every few minutes, also as two overlapping runs: a rep is invited once \
                per round (one transaction decides it) and a message is claimed by one process at a time. \
                A scheduled survey goes out at its local time in each rep's own time zone.
                """)

        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("Seconds to keep retrying transient failures.", valueName: "seconds"))
        var maxWait: Double = 30

        func run() throws {
            let setup = try MailSetup(global)
            let now = global.now
            for closed in try setup.db.closeDueRounds(now: now) { Terminal.note("closed \(closed)") }
            let fallbackZone = setup.config.timezone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
            for (id, entry) in try global.loadSurveys().sorted(by: { $0.key < $1.key }) {
                let survey = entry.definition
                guard let schedule = survey.schedule, let time = schedule.time else { continue }
                // The period as seen from the zone furthest ahead, so that no rep is late.
                let period = Period.containing(Tick.day(of: now, in: TimeZone(secondsFromGMT: 14 * 3600)!), kind: schedule.periodKind)
                guard schedule.runs(in: period) else { continue }
                let sendDay = schedule.sendDay(in: period)
                let due: (Rep) -> Bool = { rep in
                    let zone = rep.timezone.flatMap(TimeZone.init(identifier:)) ?? fallbackZone
                    return Tick.instant(sendDay, hour: time.hour, minute: time.minute, in: zone) <= now
                }
                let closes = now.addingTimeInterval(Double(schedule.closeAfterDays ?? 7) * 86_400)
                do {
                    let s = try setup.db.queueInvitations(survey: survey, period: period, team: nil, closesAt: closes,
                                                          key: setup.key, now: now, dryRun: false, only: due) { draft in
                        try setup.composer.render(draft, now: now)
                    }
                    if s.roundCreated || !s.queued.isEmpty {
                        Terminal.note("\(id) \(period): \(s.queued.count) invitations queued")
                    }
                } catch {
                    // A closed round, or answers imported for this period: nothing more goes
                    // out for it, and that is no news on every run.
                    guard error.exitCode == 64 else { throw error }
                }
            }
            let reminders = setup.config.reminders
            for (survey, period) in try setup.db.openSentRounds() {
                let s = try setup.db.queueReminders(
                    survey: survey, period: period, max: reminders?.max ?? 2, minDaysApart: reminders?.minDaysApart ?? 2,
                    key: setup.key, now: now, dryRun: false) { draft in try setup.composer.render(draft, now: now) }
                if !s.queued.isEmpty { Terminal.note("\(survey) \(period): \(s.queued.count) reminders queued") }
            }
            try setup.dispatch(maxWait: maxWait)
        }

        static func day(of date: Date, in zone: TimeZone) -> Day {
            Day(ordinal: Int(((date.timeIntervalSince1970 + Double(zone.secondsFromGMT(for: date))) / 86_400).rounded(.down)))
        }

        /// The moment a local date and time happen in a zone (daylight saving included).
        static func instant(_ day: Day, hour: Int, minute: Int, in zone: TimeZone) -> Date {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let p = day.parts
            return calendar.date(from: DateComponents(year: p.year, month: p.month, day: p.day, hour: hour, minute: minute))
                ?? Date(timeIntervalSince1970: Double(day.ordinal) * 86_400)
        }
    }
}
