import Crypto
import Foundation

/// A value as `pulse db copy` moves it between engines.
public enum CopyValue: Sendable, Hashable {
    case null
    case int(Int64)
    case real(Double)
    case text(String)
    case blob(Data)
}

/// One table of a workspace as `pulse db copy` moves it: its columns (with the kind each
/// engine stores them as) and its key, by which rows are read in order on both sides.
public struct CopyTable: Sendable {
    public enum Kind: Sendable { case int, real, text, blob, bool }

    public var name: String
    public var columns: [(name: String, kind: Kind)]
    /// The key, in order; text keys compare byte by byte on both engines.
    public var key: [String]
    /// The sequence its ids come from, set past the largest copied id.
    public var sequence: String?

    public init(_ name: String, _ columns: [(String, Kind)], key: [String], sequence: String? = nil) {
        self.name = name; self.columns = columns.map { (name: $0.0, kind: $0.1) }; self.key = key; self.sequence = sequence
    }

    /// Every table of a workspace, parents before children. Not copied: the leases of a
    /// running `serve` (a copy is refused while answers are held) and, of a response, an
    /// `edit_key` an older Pulse may have left (a hash of the rep's link, which Pulse no
    /// longer keeps).
    public static let all: [CopyTable] = [
        CopyTable("rep", [("id", .int), ("email", .text), ("name", .text), ("preferred_name", .text), ("team", .text),
                          ("manager_email", .text), ("region", .text), ("locale", .text), ("timezone", .text),
                          ("start_date", .text), ("active", .bool), ("deactivated_at", .text), ("created_at", .text),
                          ("updated_at", .text)], key: ["id"], sequence: "rep_id_seq"),
        CopyTable("survey", [("id", .text), ("title", .text), ("anonymity", .text), ("current_version_id", .int)], key: ["id"]),
        CopyTable("survey_version", [("id", .int), ("survey_id", .text), ("number", .int), ("definition", .text),
                                     ("registered_at", .text)], key: ["id"], sequence: "survey_version_id_seq"),
        CopyTable("round", [("id", .int), ("survey_id", .text), ("survey_version_id", .int), ("period", .text),
                            ("period_start", .text), ("period_end", .text), ("source", .text), ("opened_at", .text),
                            ("closes_at", .text), ("closed_at", .text), ("answers_not_kept", .int), ("min_group_size", .int)],
                  key: ["id"], sequence: "round_id_seq"),
        CopyTable("invitation", [("id", .int), ("round_id", .int), ("rep_id", .int), ("token_hash", .blob), ("team", .text),
                                 ("manager_email", .text), ("region", .text), ("created_at", .text), ("sent_at", .text),
                                 ("answered", .bool), ("reminders", .int), ("last_reminded_at", .text), ("closes_at", .text)],
                  key: ["id"], sequence: "invitation_id_seq"),
        CopyTable("response", [("id", .int), ("round_id", .int), ("rep_id", .int), ("team", .text), ("manager_email", .text),
                               ("region", .text), ("submitted_at", .text), ("morale", .real), ("enps", .int), ("source", .text)],
                  key: ["id"], sequence: "response_id_seq"),
        CopyTable("answer", [("response_id", .int), ("question_id", .text), ("number", .int), ("text", .text)],
                  key: ["response_id", "question_id"]),
        CopyTable("outbox", [("id", .int), ("kind", .text), ("invitation_id", .int), ("message_id", .text), ("sender", .text),
                             ("recipient", .text), ("subject", .text), ("body", .blob), ("status", .text), ("attempts", .int),
                             ("next_attempt_at", .text), ("last_error", .text), ("server_reply", .text), ("created_at", .text),
                             ("sent_at", .text)], key: ["id"], sequence: "outbox_id_seq"),
        CopyTable("activity", [("rep_id", .int), ("day", .text), ("calls", .int), ("emails", .int), ("meetings", .int),
                               ("opportunities_created", .int), ("deals_won", .int), ("deals_lost", .int),
                               ("revenue_won_cents", .int), ("pipeline_value_cents", .int)], key: ["rep_id", "day"]),
        CopyTable("activity_week", [("rep_id", .int), ("week_start", .text), ("calls", .int), ("emails", .int), ("meetings", .int),
                                    ("opportunities_created", .int), ("deals_won", .int), ("deals_lost", .int),
                                    ("revenue_won_cents", .int)], key: ["rep_id", "week_start"]),
        CopyTable("quota", [("rep_id", .int), ("period", .text), ("period_start", .text), ("period_end", .text), ("quota_cents", .int)],
                  key: ["rep_id", "period"]),
        CopyTable("note", [("id", .int), ("rep_id", .int), ("text", .text), ("created_at", .text)], key: ["id"], sequence: "note_id_seq"),
        CopyTable("action_item", [("id", .int), ("rep_id", .int), ("note_id", .int), ("text", .text), ("created_at", .text),
                                  ("done_at", .text)], key: ["id"], sequence: "action_item_id_seq"),
        CopyTable("opportunity", [("id", .text), ("rep_id", .int), ("created", .text), ("closed", .text), ("status", .text),
                                  ("amount_cents", .int)], key: ["id"]),
        CopyTable("lead", [("id", .text), ("rep_id", .int), ("created", .text), ("converted", .text)], key: ["id"]),
    ]
}

/// A digest of a table's rows in key order, the same for the same values on every
/// engine: what `pulse db copy` compares after copying.
public struct CopyDigest: Sendable {
    private var hash = SHA256()
    public private(set) var rows = 0

    public init() {}

    public mutating func add(_ row: [CopyValue]) {
        rows += 1
        for value in row {
            switch value {
            case .null: hash.update(data: [0])
            case let .int(i): hash.update(data: [1]); withUnsafeBytes(of: i.littleEndian) { hash.update(bufferPointer: $0) }
            case let .real(d): hash.update(data: [2]); withUnsafeBytes(of: d.bitPattern.littleEndian) { hash.update(bufferPointer: $0) }
            case let .text(s):
                hash.update(data: [3]); withUnsafeBytes(of: Int64(s.utf8.count).littleEndian) { hash.update(bufferPointer: $0) }
                hash.update(data: Data(s.utf8))
            case let .blob(b):
                hash.update(data: [4]); withUnsafeBytes(of: Int64(b.count).littleEndian) { hash.update(bufferPointer: $0) }
                hash.update(data: b)
            }
        }
    }

    public var hex: String { hash.finalize().map { String(format: "%02x", $0) }.joined() }
}
