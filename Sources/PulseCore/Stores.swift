import Foundation

/// What the answer pages need from a store: look a link up, take an answer, hold
/// anonymous answers and write them in batches. Async, so that an engine never blocks
/// the caller's thread: the SQLite engine runs its calls on threads of its own, and a
/// network engine awaits its server.
///
/// The rules (when a round is open, what an anonymous answer may carry, batches of at
/// least the threshold) are the same for every engine; the storage contract tests
/// (`AnswerStoreContract`) hold each engine to them.
public protocol AnswerStore: Sendable {
    /// The invitation a personal token belongs to, or `nil` for an unknown token.
    func invitation(token: String) async throws(PulseError) -> Invitation?

    /// The invitation of a token and the answers given through it so far (never any for
    /// an anonymous survey), in one read.
    func invitationAndAnswers(token: String) async throws(PulseError) -> (invitation: Invitation, answers: [String: AnswerValue]?)?

    /// Stores (or replaces) identified surveys' answers in one transaction (a group
    /// commit), each checked on its own that its round is open, in the given order (two
    /// through one link: the second replaces the first). One outcome per submission; an
    /// error stores none of them.
    func submitAnswers(_ batch: [AnswerSubmission]) async throws(PulseError) -> [WebAnswerOutcome]

    /// Marks an anonymous answer held by a lease (renewed until `expires`), checking that
    /// the round is open and the invitation neither answered nor held; raises the
    /// round's threshold to `promised`. `leaseAlive` is `false` when the caller's lease
    /// was found let go.
    func holdAnonymousAnswer(_ invitation: Invitation, lease: String, expires: Date, promised: Int, renewing: Bool,
                             now: Date) async throws(PulseError) -> (outcome: WebAnswerOutcome, leaseAlive: Bool)

    /// Writes held answers of one round as one shuffled batch with their answered flags,
    /// only those the lease still holds, and none under the threshold. Returns how many.
    func writeHeldBatch(_ batch: [HeldAnswer], lease: String, threshold: Int) async throws(PulseError) -> Int

    /// Held answers of a round that ended under the threshold: answered, not kept.
    func discardHeldAnswers(_ held: [HeldAnswer], roundID: Int64) async throws(PulseError)

    /// Lets go of holds without writing their answers: those reps count as not answered.
    func releaseHolds(_ invitationIDs: [Int64], lease: String) async throws(PulseError)

    /// Renews a lease; `false` when the caller held it and it was found let go.
    func renewLease(_ id: String, expires: Date, now: Date, renewing: Bool) async throws(PulseError) -> Bool

    /// Ends a lease, letting go of whatever it still holds.
    func endLease(_ id: String) async throws(PulseError)

    /// Whether each round is still open for the answers held for it.
    func heldRoundStates(_ roundIDs: [Int64], now: Date) async throws(PulseError) -> [Int64: HeldRoundState]

    /// Whether the store answers at all (for `/healthz`).
    func checkHealth() async throws(PulseError)
}

/// The roster: reps imported from a checked file, listed, found and (de)activated.
public protocol RosterStore: Sendable {
    /// Upserts the file's reps by email in one transaction (all or nothing): a column
    /// absent from the file leaves that field as it was; deactivated reps stay inactive.
    func importRoster(_ roster: RosterFile, now: Date) async throws(PulseError) -> RosterImportSummary

    /// The reps by team (no team first), then email.
    func reps(includeInactive: Bool, team: String?) async throws(PulseError) -> [Rep]

    /// A rep by email, in any case.
    func rep(email: String) async throws(PulseError) -> Rep?

    /// Deactivates (no more invitations; history stays) or activates a rep; `false` when
    /// it already was. An unknown email is a usage error.
    func setActive(email: String, active: Bool, now: Date) async throws(PulseError) -> Bool
}

/// What a send opens and whom it invites.
public struct InvitationRequest: Sendable {
    public var survey: SurveyDefinition
    public var period: Period
    /// Only this team's reps.
    public var team: String?
    /// When a new round closes (the last moment any rep's window ends).
    public var closesAt: Date?
    /// How long each invitation stays open after now; the round's closing time moves
    /// later when an invitation's window ends after it.
    public var openDays: Int?
    /// The threshold the mail promises; the round keeps the largest it was promised.
    public var minGroupSize: Int?
    /// Invite only these reps (by id); with it, no round is opened for nobody.
    public var only: Set<Int64>?
    /// Queue at most this many new invitations in this call (its transaction), and say in
    /// the summary how many reps remain: a large round goes out in chunks, so sending
    /// starts before it is all rendered and no one transaction holds the writer for long.
    public var limit: Int?
    /// How many invitations one transaction of a round sent in chunks queues: well under a
    /// second of rendering, so a server sharing the database is never held up for long.
    public static let chunk = 200

    public init(survey: SurveyDefinition, period: Period, team: String? = nil, closesAt: Date?, openDays: Int? = nil,
                minGroupSize: Int? = nil, only: Set<Int64>? = nil, limit: Int? = nil) {
        self.survey = survey; self.period = period; self.team = team; self.closesAt = closesAt; self.openDays = openDays
        self.minGroupSize = minGroupSize; self.only = only; self.limit = limit
    }
}

/// Which reps of a round a reminder run reaches: at most `max` reminders per rep, at
/// least `minDaysApart` days after the invitation or the last reminder.
public struct ReminderRequest: Sendable {
    public var survey: String
    public var period: Period
    public var max: Int
    public var minDaysApart: Int
    public var minGroupSize: Int?

    public init(survey: String, period: Period, max: Int, minDaysApart: Int, minGroupSize: Int? = nil) {
        self.survey = survey; self.period = period; self.max = max; self.minDaysApart = minDaysApart; self.minGroupSize = minGroupSize
    }
}

/// Turns a draft into the message the outbox stores; called inside the transaction that
/// records it, so that every message exists in the outbox before anything is sent.
public typealias MessageRenderer = @Sendable (MessageDraft) throws -> RenderedMessage

/// What became of one claimed message, as the outbox records it.
public enum MessageOutcome: Sendable, Equatable {
    /// The server accepted it: sent, its body dropped, the invitation marked sent.
    case sent(id: Int64, reply: String, at: Date)
    /// Back in the queue, due at `at`; `countAttempt: false` gives the claim's attempt back.
    case retry(id: Int64, error: String, at: Date, countAttempt: Bool)
    /// Given up on.
    case failed(id: Int64, error: String)
}

/// Invitations and the outbox: each rep invited once per round, each message recorded
/// before it is sent and claimed by one worker at a time, under a lease that expires
/// (a worker that dies leaves nothing claimed for ever).
public protocol OutboxStore: Sendable {
    /// Opens the round (or finds it) and queues one invitation per active rep not yet
    /// invited (at most the request's limit), in one transaction; a dry run renders
    /// everything and stores nothing.
    func queueInvitations(_ request: InvitationRequest, key: TokenKey, now: Date, dryRun: Bool,
                          render: @escaping MessageRenderer) async throws(PulseError) -> QueueSummary

    /// Queues reminders for the reps of an open round who have not answered.
    func queueReminders(_ request: ReminderRequest, key: TokenKey, now: Date, dryRun: Bool,
                        render: @escaping MessageRenderer) async throws(PulseError) -> QueueSummary

    /// When each unanswered rep of a round gets their next reminder.
    func reminderPlan(_ request: ReminderRequest, now: Date) async throws(PulseError) -> [ReminderPlan]

    /// Takes up to `limit` due messages (and those whose claim's lease ran out) and marks
    /// them as being sent under a lease of `lease` seconds.
    func claimDueMessages(limit: Int, now: Date, lease: TimeInterval) async throws(PulseError) -> [QueuedMessage]

    /// Records what became of claimed messages, all in one transaction (a group commit):
    /// either every outcome is stored or none is.
    func recordOutcomes(_ outcomes: [MessageOutcome]) async throws(PulseError)

    /// The latest messages first, of one status or all.
    func outbox(status: String?, limit: Int) async throws(PulseError) -> [OutboxEntry]

    /// How many messages have each status.
    func outboxCounts() async throws(PulseError) -> [String: Int]

    /// The earliest time a queued or claimed message is due.
    func nextDueTime() async throws(PulseError) -> Date?
}

extension OutboxStore {
    /// Queues a round's invitations `chunk` at a time, each chunk in its own transaction,
    /// calling `committed` with the running count after each: what a chunk queued can be sent
    /// while the next is rendered. A run stopped between chunks leaves a round that the next
    /// run completes (it invites only those not yet invited). A dry run is one transaction.
    /// - Returns: the whole run's summary (`skipped`: reps invited before it began).
    public func queueInvitations(_ request: InvitationRequest, chunk: Int, key: TokenKey, now: Date, dryRun: Bool,
                                 render: @escaping MessageRenderer,
                                 committed: @Sendable (Int) -> Void = { _ in }) async throws(PulseError) -> QueueSummary {
        var request = request
        request.limit = dryRun ? nil : max(1, chunk)
        var total = try await queueInvitations(request, key: key, now: now, dryRun: dryRun, render: render)
        committed(total.queued.count)
        var last = total
        while last.remaining > 0 && !last.queued.isEmpty {
            last = try await queueInvitations(request, key: key, now: now, dryRun: dryRun, render: render)
            total.queued += last.queued
            committed(total.queued.count)
        }
        total.remaining = last.remaining
        return total
    }
}

/// The answers given through one link of an identified survey, to be stored.
public struct AnswerSubmission: Sendable {
    public var invitation: Invitation
    public var answers: [String: AnswerValue]
    public var now: Date

    public init(_ invitation: Invitation, answers: [String: AnswerValue], now: Date) {
        self.invitation = invitation; self.answers = answers; self.now = now
    }
}

extension AnswerStore {
    /// Stores (or replaces) one identified survey's answers, in a transaction of its own.
    public func submitAnswers(_ invitation: Invitation, answers: [String: AnswerValue], now: Date) async throws(PulseError) -> WebAnswerOutcome {
        try await submitAnswers([AnswerSubmission(invitation, answers: answers, now: now)])[0]
    }
}

/// Surveys' rounds: listed with their counts, closed by hand or when their time is up.
public protocol RoundStore: Sendable {
    /// Every round (of one survey), by period start.
    func rounds(survey: String?) async throws(PulseError) -> [Round]

    /// Every round with its counts.
    func roundSummaries(survey: String?) async throws(PulseError) -> [RoundSummary]

    /// Closes a round; `false` when it already was. An unknown round is a usage error.
    func closeRound(survey: String, period: Period, now: Date) async throws(PulseError) -> Bool

    /// Closes the rounds whose closing time has passed; returns them as "survey period".
    func closeDueRounds(now: Date, dryRun: Bool) async throws(PulseError) -> [String]

    /// Open rounds that went out through Pulse.
    func openSentRounds(now: Date) async throws(PulseError) -> [SentRound]

    /// How many anonymous answers a round has held by a live lease (a serve writes them
    /// when the round ends).
    func heldAnswerCount(roundID: Int64, now: Date) async throws(PulseError) -> Int

    /// A round's answers given but not kept (it ended with fewer than the threshold).
    func answersNotKept(roundID: Int64) async throws(PulseError) -> Int

    /// How many versions and rounds each stored survey has.
    func surveyHistory() async throws(PulseError) -> [String: SurveyHistory]
}

/// A stored survey's versions and rounds (`pulse survey list`).
public struct SurveyHistory: Sendable, Equatable {
    public var versions: Int
    public var rounds: Int
    public init(versions: Int, rounds: Int) { self.versions = versions; self.rounds = rounds }
}

/// An open round that went out through Pulse.
public struct SentRound: Sendable, Equatable {
    public var survey: String
    public var period: Period
    public init(survey: String, period: Period) { self.survey = survey; self.period = period }
}

/// Failed token look-ups per client address, counted where every answer server sees
/// them (a network engine), so that guessing links through several servers is as slow
/// as through one. It only slows guessing: it never decides whether a valid token opens.
public protocol LookUpLimitStore: Sendable {
    /// Records a failed look-up of `address` and forgets those older than `window`.
    /// Returns how long until the address is under `max` again when it had already used
    /// them up; `nil` otherwise.
    func recordFailedLookUp(address: String, now: Date, window: TimeInterval, max: Int) async throws(PulseError) -> TimeInterval?
}

extension OutboxStore {
    /// The server accepted it: sent, its body dropped, the invitation marked sent.
    public func markSent(_ id: Int64, reply: String, now: Date) async throws(PulseError) {
        try await recordOutcomes([.sent(id: id, reply: reply, at: now)])
    }

    /// Back in the queue; `countAttempt: false` gives the claim's attempt back.
    public func markRetry(_ id: Int64, error: String, at next: Date, countAttempt: Bool) async throws(PulseError) {
        try await recordOutcomes([.retry(id: id, error: error, at: next, countAttempt: countAttempt)])
    }

    /// Given up on.
    public func markFailed(_ id: Int64, error: String) async throws(PulseError) {
        try await recordOutcomes([.failed(id: id, error: error)])
    }
}
