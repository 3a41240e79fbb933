import Foundation

/// What a removal took out (or would, for a run without `--yes`), table by table.
public struct RemovalSummary: Sendable, Equatable, CustomStringConvertible {
    public var parts: [(what: String, count: Int)] = []
    public var applied: Bool

    public init(parts: [(what: String, count: Int)] = [], applied: Bool) { self.parts = parts; self.applied = applied }

    public static func == (a: RemovalSummary, b: RemovalSummary) -> Bool {
        a.applied == b.applied && a.parts.map(\.what) == b.parts.map(\.what) && a.parts.map(\.count) == b.parts.map(\.count)
    }

    public var total: Int { parts.map(\.count).reduce(0, +) }

    /// "2 invitations, 1 queued message and 2 responses", naming only what there was.
    public var description: String {
        let named = parts.filter { $0.count > 0 }.map { Plural.count($0.count, $0.what) }
        switch named.count {
        case 0: return "nothing"
        case 1: return named[0]
        default: return named.dropLast().joined(separator: ", ") + " and " + named.last!
        }
    }
}

/// One invited rep of a round, for `rounds show`.
public struct RoundRep: Sendable {
    public var email: String
    public var name: String?
    public var team: String?
    public var sentAt: String?
    public var reminders: Int
    public var lastRemindedAt: String?
    public var answered: Bool
    /// When the answer came; for an identified survey only (an anonymous answer has no time).
    public var answeredAt: String?

    public init(email: String, name: String?, team: String?, sentAt: String?, reminders: Int, lastRemindedAt: String?,
                answered: Bool, answeredAt: String?) {
        self.email = email; self.name = name; self.team = team; self.sentAt = sentAt; self.reminders = reminders
        self.lastRemindedAt = lastRemindedAt; self.answered = answered; self.answeredAt = answeredAt
    }
}

/// One response of an identified survey, for `responses export`.
public struct ExportedResponse: Sendable {
    public var email: String
    public var name: String?
    public var team: String?
    public var period: Period
    public var submittedAt: String?
    public var answers: [String: AnswerValue]

    public init(email: String, name: String?, team: String?, period: Period, submittedAt: String?, answers: [String: AnswerValue]) {
        self.email = email; self.name = name; self.team = team; self.period = period; self.submittedAt = submittedAt; self.answers = answers
    }
}


/// A round seen rep by rep, identified answers exported, and the removals that undo
/// mistakes (a round sent by error, activity imported twice, a rep who asks to be
/// forgotten). Every removal without `apply` counts what it would remove and changes
/// nothing.
public protocol MaintenanceStore: Sendable {
    /// A round with each invited rep: sent, reminded and answered. For an anonymous
    /// survey only whether each rep answered, never when or what.
    func roundDetail(survey: String, period: Period) async throws(PulseError) -> RoundDetail

    /// The responses of an identified survey, one per rep and round, with their answers.
    /// - Throws: `.usage` for an anonymous survey: its answers are never shown one by one.
    func exportResponses(survey: String, range: PeriodRange?) async throws(PulseError) -> ExportedResponses

    /// Removes a round with its invitations, their mail and its answers.
    func deleteRound(survey: String, period: Period, apply: Bool) async throws(PulseError) -> RemovalSummary

    /// Removes activity rows between two days (both included), of one rep or of everyone.
    func deleteActivity(from: Day, to: Day, repEmail: String?, apply: Bool) async throws(PulseError) -> RemovalSummary

    /// Removes everything held about a rep but the anonymous answers, which hold no link to them.
    func eraseRep(email: String, apply: Bool) async throws(PulseError) -> RemovalSummary
}

/// A round and its invited reps (`rounds show`).
public struct RoundDetail: Sendable {
    public var round: Round
    public var anonymity: Anonymity
    public var reps: [RoundRep]
    public init(round: Round, anonymity: Anonymity, reps: [RoundRep]) { self.round = round; self.anonymity = anonymity; self.reps = reps }
}

/// An identified survey's responses and the definition to read them by (`responses export`).
public struct ExportedResponses: Sendable {
    public var definition: SurveyDefinition
    public var responses: [ExportedResponse]
    public init(definition: SurveyDefinition, responses: [ExportedResponse]) { self.definition = definition; self.responses = responses }
}

