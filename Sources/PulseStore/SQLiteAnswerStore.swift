import Dispatch
import Foundation
import PulseCore

/// The SQLite engine of `AnswerStore`: each call runs on a thread of its own queue, so
/// that a request waiting for SQLite (its busy timeout, a checkpoint) never holds a
/// thread of Swift's cooperative pool.
public struct SQLiteAnswerStore: AnswerStore {
    public let database: AppDatabase
    private let queue: DispatchQueue

    public init(_ database: AppDatabase) {
        self.database = database
        queue = DispatchQueue(label: "pulse.sqlite.answers", attributes: .concurrent)
    }

    /// Runs a blocking call on the store's queue and resumes with its result.
    func run<T: Sendable>(_ body: @escaping @Sendable (AppDatabase) throws(PulseError) -> T) async throws(PulseError) -> T {
        let database = self.database
        let result: Result<T, PulseError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Result { () throws(PulseError) -> T in try body(database) })
            }
        }
        return try result.get()
    }

    public func invitation(token: String) async throws(PulseError) -> Invitation? {
        try await run { db throws(PulseError) in try db.invitation(token: token) }
    }

    public func invitationAndAnswers(token: String) async throws(PulseError) -> (invitation: Invitation, answers: [String: AnswerValue]?)? {
        let found = try await run { db throws(PulseError) in try db.invitationAndAnswers(token: token).map { Found(invitation: $0.invitation, answers: $0.answers) } }
        return found.map { ($0.invitation, $0.answers) }
    }

    /// A tuple is not Sendable; this is.
    struct Found: Sendable {
        var invitation: Invitation
        var answers: [String: AnswerValue]?
    }

    public func submitAnswers(_ batch: [AnswerSubmission]) async throws(PulseError) -> [WebAnswerOutcome] {
        try await run { db throws(PulseError) in try db.submitAnswers(batch) }
    }

    public func holdAnonymousAnswer(_ invitation: Invitation, lease: String, expires: Date, promised: Int, renewing: Bool,
                                    now: Date) async throws(PulseError) -> (outcome: WebAnswerOutcome, leaseAlive: Bool) {
        let held = try await run { db throws(PulseError) in
            let r = try db.holdAnonymousAnswer(invitation, lease: lease, expires: expires, promised: promised, renewing: renewing, now: now)
            return Held(outcome: r.outcome, leaseAlive: r.leaseAlive)
        }
        return (held.outcome, held.leaseAlive)
    }

    struct Held: Sendable {
        var outcome: WebAnswerOutcome
        var leaseAlive: Bool
    }

    public func writeHeldBatch(_ batch: [HeldAnswer], lease: String, threshold: Int) async throws(PulseError) -> Int {
        try await run { db throws(PulseError) in try db.writeHeldBatch(batch, lease: lease, threshold: threshold) }
    }

    public func discardHeldAnswers(_ held: [HeldAnswer], roundID: Int64) async throws(PulseError) {
        try await run { db throws(PulseError) in try db.discardHeldAnswers(held, roundID: roundID) }
    }

    public func releaseHolds(_ invitationIDs: [Int64], lease: String) async throws(PulseError) {
        try await run { db throws(PulseError) in try db.releaseHolds(invitationIDs, lease: lease) }
    }

    public func renewLease(_ id: String, expires: Date, now: Date, renewing: Bool) async throws(PulseError) -> Bool {
        try await run { db throws(PulseError) in try db.renewLease(id, expires: expires, now: now, renewing: renewing) }
    }

    public func endLease(_ id: String) async throws(PulseError) {
        try await run { db throws(PulseError) in try db.endLease(id) }
    }

    public func heldRoundStates(_ roundIDs: [Int64], now: Date) async throws(PulseError) -> [Int64: HeldRoundState] {
        try await run { db throws(PulseError) in try db.heldRoundStates(roundIDs, now: now) }
    }

    public func checkHealth() async throws(PulseError) {
        _ = try await run { db throws(PulseError) in
            do { return try db.schemaVersion() } catch { throw PulseError.runtime("the database does not answer: \(error)") }
        }
    }
}

/// The SQLite engine of `RosterStore`, on the same queue discipline.
extension SQLiteAnswerStore: RosterStore {
    public func importRoster(_ roster: RosterFile, now: Date) async throws(PulseError) -> RosterImportSummary {
        try await run { db throws(PulseError) in try db.importRoster(roster, now: now) }
    }

    public func reps(includeInactive: Bool, team: String?) async throws(PulseError) -> [Rep] {
        try await run { db throws(PulseError) in try db.reps(includeInactive: includeInactive, team: team) }
    }

    public func rep(email: String) async throws(PulseError) -> Rep? {
        try await run { db throws(PulseError) in try db.rep(email: email) }
    }

    public func setActive(email: String, active: Bool, now: Date) async throws(PulseError) -> Bool {
        try await run { db throws(PulseError) in
            active ? try db.activate(email: email, now: now) : try db.deactivate(email: email, now: now)
        }
    }
}

/// The SQLite engine of `OutboxStore`. One file has one writer at a time, so the
/// invitations of a round are decided inside one immediate transaction; a claim's
/// lease is its process (resent once that process is gone) and a time.
extension SQLiteAnswerStore: OutboxStore {
    public func queueInvitations(_ request: InvitationRequest, key: TokenKey, now: Date, dryRun: Bool,
                                 render: @escaping MessageRenderer) async throws(PulseError) -> QueueSummary {
        try await run { db throws(PulseError) in
            try db.queueInvitations(survey: request.survey, period: request.period, team: request.team, closesAt: request.closesAt,
                                    openDays: request.openDays, minGroupSize: request.minGroupSize, key: key, now: now,
                                    dryRun: dryRun, only: request.only, limit: request.limit, render: render)
        }
    }

    public func queueReminders(_ request: ReminderRequest, key: TokenKey, now: Date, dryRun: Bool,
                               render: @escaping MessageRenderer) async throws(PulseError) -> QueueSummary {
        try await run { db throws(PulseError) in
            try db.queueReminders(survey: request.survey, period: request.period, max: request.max, minDaysApart: request.minDaysApart,
                                  minGroupSize: request.minGroupSize, key: key, now: now, dryRun: dryRun, render: render)
        }
    }

    public func reminderPlan(_ request: ReminderRequest, now: Date) async throws(PulseError) -> [ReminderPlan] {
        try await run { db throws(PulseError) in
            try db.reminderPlan(survey: request.survey, period: request.period, max: request.max, minDaysApart: request.minDaysApart, now: now)
        }
    }

    public func claimDueMessages(limit: Int, now: Date, lease: TimeInterval) async throws(PulseError) -> [QueuedMessage] {
        try await run { db throws(PulseError) in try db.claimDueMessages(limit: limit, now: now, lease: lease) }
    }

    public func recordOutcomes(_ outcomes: [MessageOutcome]) async throws(PulseError) {
        try await run { db throws(PulseError) in try db.recordOutcomes(outcomes) }
    }

    public func outbox(status: String?, limit: Int) async throws(PulseError) -> [OutboxEntry] {
        try await run { db throws(PulseError) in try db.outbox(status: status, limit: limit) }
    }

    public func outboxCounts() async throws(PulseError) -> [String: Int] {
        try await run { db throws(PulseError) in try db.outboxCounts() }
    }

    public func nextDueTime() async throws(PulseError) -> Date? {
        try await run { db throws(PulseError) in try db.nextDueTime() }
    }
}

/// The SQLite engine of `RoundStore`.
extension SQLiteAnswerStore: RoundStore {
    public func rounds(survey: String?) async throws(PulseError) -> [Round] {
        try await run { db throws(PulseError) in try db.rounds(survey: survey) }
    }

    public func roundSummaries(survey: String?) async throws(PulseError) -> [RoundSummary] {
        try await run { db throws(PulseError) in try db.roundSummaries(survey: survey) }
    }

    public func closeRound(survey: String, period: Period, now: Date) async throws(PulseError) -> Bool {
        try await run { db throws(PulseError) in try db.closeRound(survey: survey, period: period, now: now) }
    }

    public func closeDueRounds(now: Date, dryRun: Bool) async throws(PulseError) -> [String] {
        try await run { db throws(PulseError) in try db.closeDueRounds(now: now, dryRun: dryRun) }
    }

    public func openSentRounds(now: Date) async throws(PulseError) -> [SentRound] {
        try await run { db throws(PulseError) in try db.openSentRounds(now: now).map { SentRound(survey: $0.survey, period: $0.period) } }
    }

    public func heldAnswerCount(roundID: Int64, now: Date) async throws(PulseError) -> Int {
        try await run { db throws(PulseError) in try db.heldAnswerCount(roundID: roundID, now: now) }
    }

    public func surveyHistory() async throws(PulseError) -> [String: SurveyHistory] {
        try await run { db throws(PulseError) in try db.surveyHistory().mapValues { SurveyHistory(versions: $0.versions, rounds: $0.rounds) } }
    }

    public func answersNotKept(roundID: Int64) async throws(PulseError) -> Int {
        try await run { db throws(PulseError) in try db.answersNotKept(roundID: roundID) }
    }
}

/// The SQLite engine of `ReportStore`: the reads stream the report index in SQLite's C API.
extension SQLiteAnswerStore: ReportStore {
    public func knowsSurvey(_ id: String) async throws(PulseError) -> Bool {
        try await run { db throws(PulseError) in try db.knowsSurvey(id) }
    }

    public func latestRoundPeriod(survey: String, onOrBefore day: Day) async throws(PulseError) -> Period? {
        try await run { db throws(PulseError) in try db.latestRoundPeriod(survey: survey, onOrBefore: day) }
    }

    public func roundPeriods(survey: String, range: PeriodRange) async throws(PulseError) -> [Period] {
        try await run { db throws(PulseError) in try db.roundPeriods(survey: survey, range: range) }
    }

    public func enpsCounts(survey: String, range: PeriodRange, by: GroupBy, minGroupSize: Int) async throws(PulseError) -> [String: ENPSCounts] {
        try await run { db throws(PulseError) in try db.enpsCounts(survey: survey, range: range, by: by, minGroupSize: minGroupSize) }
    }

    public func invitedCounts(survey: String, range: PeriodRange, by: GroupBy) async throws(PulseError) -> [String: Int]? {
        try await run { db throws(PulseError) in try db.invitedCounts(survey: survey, range: range, by: by) }
    }

    public func moraleCells(survey: String, range: PeriodRange, by: GroupBy,
                            minGroupSize: Int) async throws(PulseError) -> [String: [Period: MoraleCell]] {
        try await run { db throws(PulseError) in try db.moraleCells(survey: survey, range: range, by: by, minGroupSize: minGroupSize) }
    }

    public func anonymousAnswersLeftOut(survey: String, range: PeriodRange, minGroupSize: Int) async throws(PulseError) -> [LeftOutAnswers] {
        try await run { db throws(PulseError) in
            try db.anonymousAnswersLeftOut(survey: survey, range: range, minGroupSize: minGroupSize).map { LeftOutAnswers(period: $0.period, answers: $0.answers) }
        }
    }

    public func numericAnswers(survey: String, range: PeriodRange, minGroupSize: Int) async throws(PulseError) -> NumericAnswers {
        try await run { db throws(PulseError) in
            let (definition, responses) = try db.numericAnswers(survey: survey, range: range, minGroupSize: minGroupSize)
            return NumericAnswers(definition: definition, responses: responses)
        }
    }
}

/// The SQLite engine of `KPIStore`: the days stream in key order through `WeeklySummer`.
extension SQLiteAnswerStore: KPIStore {
    public func weeklyKPIs(from start: Day, to end: Day, reps: [Int64]?) async throws(PulseError) -> [WeeklyKPIs] {
        try await run { db throws(PulseError) in try db.weeklyKPIs(from: start, to: end, reps: reps) }
    }

    public func weeklyValues(of kpi: KPI, from start: Day, to end: Day, reps: [Int64]?) async throws(PulseError) -> [Int64: [Period: Double]] {
        if kpi.isPipeline { return try await pipelineValues(of: kpi, from: start, to: end, reps: reps) }
        return try await run { db throws(PulseError) in try db.weeklyValues(of: kpi, from: start, to: end, reps: reps) }
    }

    public func quotas(from start: Day, to end: Day) async throws(PulseError) -> [Quota] {
        try await run { db throws(PulseError) in try db.quotas(from: start, to: end) }
    }

    public func revenueCents(from start: Day, to end: Day) async throws(PulseError) -> [Int64: Int] {
        try await run { db throws(PulseError) in try db.revenueCents(from: start, to: end) }
    }

    public func weeklyMorale(survey: String, range: PeriodRange) async throws(PulseError) -> [Int64: [Period: Double]] {
        try await run { db throws(PulseError) in try db.weeklyMorale(survey: survey, range: range) }
    }

    public func weeklyMoraleSeries(survey: String, range: PeriodRange) async throws(PulseError) -> RepWeekSeries {
        try await run { db throws(PulseError) in try db.weeklyMoraleSeries(survey: survey, range: range) }
    }

    public func weeklyValueSeries(of kpi: KPI, from start: Day, to end: Day) async throws(PulseError) -> RepWeekSeries {
        if kpi.isPipeline { return RepWeekSeries(try await pipelineValues(of: kpi, from: start, to: end, reps: nil)) }
        return try await run { db throws(PulseError) in try db.weeklyValueSeries(of: kpi, from: start, to: end) }
    }
}

/// The SQLite engine of `OneOnOneStore`.
extension SQLiteAnswerStore: OneOnOneStore {
    public func addNote(rep: Rep, text: String, actions: [String], now: Date) async throws(PulseError) -> (note: Int64, actions: [Int64]) {
        let ids = try await run { db throws(PulseError) in
            let (note, actions) = try db.addNote(rep: rep, text: text, actions: actions, now: now)
            return [note] + actions
        }
        return (ids[0], Array(ids.dropFirst()))
    }

    public func notes(rep: Rep) async throws(PulseError) -> [OneOnOneNote] {
        try await run { db throws(PulseError) in try db.notes(rep: rep) }
    }

    public func openActions(repID: Int64?, asOf day: Day) async throws(PulseError) -> [ActionItem] {
        try await run { db throws(PulseError) in try db.openActions(repID: repID, asOf: day) }
    }

    public func completeAction(id: Int64, now: Date) async throws(PulseError) -> ActionItem? {
        try await run { db throws(PulseError) in try db.completeAction(id: id, now: now) }
    }

    public func prepHistory(rep: Rep, asOf: Day, weeks: Int, teamReps: [Int64]) async throws(PulseError) -> PrepHistory {
        try await run { db throws(PulseError) in try db.prepHistory(rep: rep, asOf: asOf, weeks: weeks, teamReps: teamReps) }
    }
}

/// The SQLite engine of `KPIImportStore`.
extension SQLiteAnswerStore: KPIImportStore {
    public func importActivity(_ reader: CSVReader, options: ActivityImportOptions,
                               progress: (@Sendable (Int) -> Void)?) async throws(PulseError) -> KPIImportSummary {
        try await run { db throws(PulseError) in
            try db.importActivity(reader, map: options.map, dateFormat: options.dateFormat, decimal: options.decimal,
                                  skipUnknown: options.skipUnknown, today: options.today, progress: progress)
        }
    }

    public func importQuotas(_ reader: CSVReader, map: [String: String], decimal: DecimalMark?,
                             skipUnknown: Bool) async throws(PulseError) -> KPIImportSummary {
        try await run { db throws(PulseError) in try db.importQuotas(reader, map: map, decimal: decimal, skipUnknown: skipUnknown) }
    }
}

/// The SQLite engine of `ResponsesImportStore`.
extension SQLiteAnswerStore: ResponsesImportStore {
    public func importResponses(_ reader: CSVReader, surveys: [String: SurveyDefinition], map: [String: String],
                                threshold: Int, now: Date) async throws(PulseError) -> ResponsesImportSummary {
        try await run { db throws(PulseError) in try db.importResponses(reader, surveys: surveys, map: map, threshold: threshold, now: now) }
    }
}

/// The SQLite engine of `PipelineStore`.
extension SQLiteAnswerStore: PipelineStore {
    public func importOpportunities(_ reader: CSVReader, options: PipelineImportOptions) async throws(PulseError) -> KPIImportSummary {
        try await run { db throws(PulseError) in try db.importOpportunities(reader, options: options) }
    }

    public func importLeads(_ reader: CSVReader, options: PipelineImportOptions) async throws(PulseError) -> KPIImportSummary {
        try await run { db throws(PulseError) in try db.importLeads(reader, options: options) }
    }

    public func opportunities(reps: [Int64]?, through: Day) async throws(PulseError) -> [Opportunity] {
        try await run { db throws(PulseError) in try db.opportunities(reps: reps, through: through) }
    }

    public func leads(reps: [Int64]?, through: Day) async throws(PulseError) -> [Lead] {
        try await run { db throws(PulseError) in try db.leads(reps: reps, through: through) }
    }
}

/// The SQLite engine of `MaintenanceStore`.
extension SQLiteAnswerStore: MaintenanceStore {
    public func roundDetail(survey: String, period: Period) async throws(PulseError) -> RoundDetail {
        try await run { db throws(PulseError) in
            let d = try db.roundDetail(survey: survey, period: period)
            return RoundDetail(round: d.round, anonymity: d.anonymity, reps: d.reps)
        }
    }

    public func exportResponses(survey: String, range: PeriodRange?) async throws(PulseError) -> ExportedResponses {
        try await run { db throws(PulseError) in
            let e = try db.exportResponses(survey: survey, range: range)
            return ExportedResponses(definition: e.definition, responses: e.responses)
        }
    }

    public func deleteRound(survey: String, period: Period, apply: Bool) async throws(PulseError) -> RemovalSummary {
        try await run { db throws(PulseError) in try db.deleteRound(survey: survey, period: period, apply: apply) }
    }

    public func deleteActivity(from: Day, to: Day, repEmail: String?, apply: Bool) async throws(PulseError) -> RemovalSummary {
        try await run { db throws(PulseError) in try db.deleteActivity(from: from, to: to, repEmail: repEmail, apply: apply) }
    }

    public func eraseRep(email: String, apply: Bool) async throws(PulseError) -> RemovalSummary {
        try await run { db throws(PulseError) in try db.eraseRep(email: email, apply: apply) }
    }
}
