import Foundation

// The domain types the store hands out, with their rules: no database type in them, so
// that every engine returns the same values.

/// Timestamps as stored: UTC ISO 8601 to the second.
public enum Timestamp {
    /// `2026-11-23T10:00:00Z`, by hand: the outbox writes one per message sent.
    public static func string(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let day = Day(ordinal: Int((Double(seconds) / 86_400).rounded(.down)))
        let inDay = seconds - day.ordinal * 86_400
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
        return "\(day)T\(two(inDay / 3600)):\(two(inDay / 60 % 60)):\(two(inDay % 60))Z"
    }

    /// A stored time back: a day (midnight UTC), the form `string` writes, or ISO 8601
    /// with or without fractions.
    public static func parse(_ s: String) -> Date? {
        if let day = Day(iso: s) {
            return Date(timeIntervalSince1970: Double(day.ordinal) * 86_400)
        }
        // The form Pulse writes itself (Timestamp.string), read by hand: the answer pages
        // read one per request.
        let u = Array(s.utf8)
        if u.count == 20, u[10] == UInt8(ascii: "T"), u[13] == UInt8(ascii: ":"), u[16] == UInt8(ascii: ":"),
           u[19] == UInt8(ascii: "Z"), let day = Day(iso: s.prefix(10)),
           let h = Day.digits(u[11..<13]), let m = Day.digits(u[14..<16]), let sec = Day.digits(u[17..<19]),
           h < 24, m < 60, sec < 61 {
            return Date(timeIntervalSince1970: Double(day.ordinal * 86_400 + h * 3600 + m * 60 + sec))
        }
        let f = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime], [.withInternetDateTime, .withFractionalSeconds]] {
            f.formatOptions = options
            if let d = f.date(from: s) { return d }
        }
        return nil
    }
}

/// A rep as stored.
public struct Rep: Codable, Sendable, Equatable {
    public var id: Int64?
    public var email: String
    public var name: String?
    /// What mail greets the rep by ("Mei Lin" for Mei Lin Tan); the name when unset.
    public var preferredName: String?
    public var team: String?
    public var managerEmail: String?
    public var region: String?
    public var locale: String?
    public var timezone: String?
    public var startDate: String?
    public var active: Bool

    enum CodingKeys: String, CodingKey {
        case id, email, name, team, region, locale, timezone, active
        case managerEmail = "manager_email"
        case preferredName = "preferred_name"
        case startDate = "start_date"
    }

    public var groupKeys: GroupKeys { GroupKeys(team: team, managerEmail: managerEmail, region: region) }


    public init(id: Int64? = nil, email: String, name: String? = nil, preferredName: String? = nil, team: String? = nil,
                managerEmail: String? = nil, region: String? = nil, locale: String? = nil, timezone: String? = nil,
                startDate: String? = nil, active: Bool) {
        self.id = id; self.email = email; self.name = name; self.preferredName = preferredName; self.team = team
        self.managerEmail = managerEmail
        self.region = region; self.locale = locale; self.timezone = timezone; self.startDate = startDate; self.active = active
    }
}

/// A round: one survey for one period.
public struct Round: Sendable, Equatable {
    public var id: Int64
    public var surveyID: String
    public var versionID: Int64
    public var period: Period
    public var source: String
    public var openedAt: String
    public var closesAt: String?
    public var closedAt: String?
    /// The largest `min_group_size` its mail or pages promised (`nil`: none recorded).
    public var minGroupSize: Int?

    public init(id: Int64, surveyID: String, versionID: Int64, period: Period, source: String, openedAt: String,
                closesAt: String? = nil, closedAt: String? = nil, minGroupSize: Int? = nil) {
        self.id = id; self.surveyID = surveyID; self.versionID = versionID; self.period = period; self.source = source
        self.openedAt = openedAt; self.closesAt = closesAt; self.closedAt = closedAt; self.minGroupSize = minGroupSize
    }

    /// Why no more invitations go out for this round at `now`, or `nil` when they may.
    public func refusesInvitations(now: Date) -> PulseError? {
        if closedAt != nil { return .usage("the round \(surveyID) \(period) is closed; nothing more goes out for it") }
        if source == "imported" {
            return .usage("the answers of \(surveyID) \(period) were imported from a file; that round cannot also be sent")
        }
        if let closes = closesAt, closes <= Timestamp.string(now) {
            return .usage("the round \(surveyID) \(period) closed at \(closes); nothing more goes out for it")
        }
        return nil
    }

    /// Why no reminders go out for this round at `now`, or `nil` when they may.
    public func refusesReminders(now: Date) -> PulseError? {
        if closedAt != nil { return .usage("the round \(surveyID) \(period) is closed; no reminders go out for it") }
        if source != "sent" { return .usage("the round \(surveyID) \(period) was imported; nobody was invited to it") }
        if let closes = closesAt, closes <= Timestamp.string(now) {
            return .usage("the round \(surveyID) \(period) closed at \(closes); no reminders go out for it")
        }
        return nil
    }
}

/// What a personal link opens: one invitation, its round and its rep.
public struct Invitation: Sendable {
    public var id: Int64
    public var round: Round
    public var definition: SurveyDefinition
    public var rep: Rep
    public var answered: Bool
    /// The group keys as they were when the rep was invited (anonymous answers keep these).
    public var keys: GroupKeys

    /// When this rep's answers close: their own invitation's closing time (at least the
    /// survey's `close_after_days` after it was sent), or the round's for invitations
    /// made before invitations had their own.
    public var ownClosesAt: String?

    /// Until when the lease of the `serve` holding this invitation's anonymous answer
    /// runs (`nil`: not held).
    public var heldUntil: String?

    public init(id: Int64, round: Round, definition: SurveyDefinition, rep: Rep, answered: Bool, keys: GroupKeys,
                ownClosesAt: String? = nil, heldUntil: String? = nil) {
        self.id = id; self.round = round; self.definition = definition; self.rep = rep; self.answered = answered
        self.keys = keys; self.ownClosesAt = ownClosesAt; self.heldUntil = heldUntil
    }

    /// Whether answers can still be given or changed at `now`.
    public func isOpen(at now: Date) -> Bool {
        guard round.closedAt == nil else { return false }
        guard let closes = closesAt else { return true }
        return now < closes
    }

    public var closesAt: Date? { (ownClosesAt ?? round.closesAt).flatMap(Timestamp.parse) }

    /// An anonymous survey's invitation that is answered, or whose answer a running
    /// `serve` holds: its link says so, and shows and changes nothing.
    public func isRecordedAnonymously(at now: Date) -> Bool {
        definition.anonymity == .anonymous && (answered || isHeld(at: now))
    }

    /// Whether a live `serve` holds this invitation's answer, to be written in a batch.
    public func isHeld(at now: Date) -> Bool {
        heldUntil.map { $0 > Timestamp.string(now) } ?? false
    }
}

/// What storing a web answer did.
public enum WebAnswerOutcome: Sendable, Equatable {
    case stored(firstTime: Bool)
    /// The round closed between showing the page and the answer.
    case closed
    /// This invitation of an anonymous survey is answered already (through the page or an
    /// import): the answer has no link back to it, so it can be neither shown nor replaced.
    case alreadyRecorded
}

/// An anonymous answer given through a link and not yet written: `serve` holds it in
/// memory until it can be written with at least `min_group_size` others.
public struct HeldAnswer: Sendable {
    public var invitationID: Int64
    public var roundID: Int64
    public var keys: GroupKeys
    public var answers: [String: AnswerValue]
    public var morale: Double?
    public var enps: Int?

    public init(invitationID: Int64, roundID: Int64, keys: GroupKeys, answers: [String: AnswerValue], morale: Double?, enps: Int?) {
        self.invitationID = invitationID; self.roundID = roundID; self.keys = keys; self.answers = answers
        self.morale = morale; self.enps = enps
    }
}

/// Where a round stands for the answers held for it.
public enum HeldRoundState: Sendable, Equatable {
    case open
    /// Closed (by tick, `rounds close` or its closing time): every held answer is written now.
    case ended
    /// Deleted, or not there.
    case gone
}
