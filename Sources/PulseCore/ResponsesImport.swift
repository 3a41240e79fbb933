import Foundation

/// A stored version of a survey: what a round's answers are checked against.
public struct SurveyVersion: Sendable {
    public var id: Int64
    public var number: Int
    public var definition: SurveyDefinition

    public init(id: Int64, number: Int, definition: SurveyDefinition) {
        self.id = id; self.number = number; self.definition = definition
    }
}

/// What a responses import did.
public struct ResponsesImportSummary: Sendable, Equatable {
    public var added = 0
    public var updated = 0
    public var unchanged = 0
    /// Anonymous answers from reps who had already answered that round: an anonymous
    /// answer has no link back to its rep, so it cannot be replaced and is left as it was.
    public var anonymousAlreadyAnswered = 0
    public var roundsCreated: [String] = []
    public var warnings: [String] = []

    public init() {}
}

/// One checked row of a responses import: a rep's answers to a round, checked against
/// the version of the survey that governs them.
public struct ImportedResponse: Sendable {
    public var line: Int
    /// The round's version, or the surveys folder's definition for a round the file opens.
    public var survey: SurveyDefinition
    public var roundID: Int64?
    public var period: Period
    public var repID: Int64
    public var email: String
    public var keys: GroupKeys
    /// Kept for identified surveys only.
    public var submittedAt: String?
    public var answers: [String: AnswerValue]

    public var morale: Double? { survey.morale(of: answers) }
    public var enps: Int? { survey.enpsQuestion.flatMap { answers[$0.id]?.number } }
}

/// What became of an identified response.
public enum StoredOutcome: Sendable { case added, updated, unchanged }

/// An anonymous answer as it is written: a random id, no rep, no time, the groups its
/// batch leaves it.
public struct AnonymousWrite: Sendable {
    public var id: Int64
    public var response: ImportedResponse
    public var tags: GroupKeys
}

/// What a responses import reads and writes, inside the one transaction of the import
/// (each engine has its own). Batches come in the file's order.
public protocol ResponsesImportEngine {
    /// The invitation a personal token's hash belongs to: its rep, and its round's survey and period.
    mutating func invitation(tokenHash: Data) throws(PulseError) -> (repID: Int64, survey: String, period: String)?
    /// The round of a survey and period, with the version it uses.
    mutating func round(survey: String, period: Period) throws(PulseError) -> (id: Int64, version: SurveyVersion)?
    /// Registers the definition's version (if new) and opens a round of it, marked imported.
    mutating func openRound(_ survey: SurveyDefinition, period: Period) throws(PulseError) -> Int64
    /// Marks each rep's invitation answered, making the invitations an imported round
    /// lacks; for each, whether it was answered before.
    mutating func markAnswered(_ batch: [ImportedResponse]) throws(PulseError) -> [Bool]
    /// Upserts identified responses by (round, rep): a response with the same answers is left alone.
    mutating func storeIdentified(_ batch: [ImportedResponse]) throws(PulseError) -> [StoredOutcome]
    /// The threshold a round promised (its `min_group_size`), raised to `k` if lower.
    mutating func promise(_ k: Int, roundID: Int64) throws(PulseError) -> Int
    /// Writes anonymous answers, in the order given.
    mutating func storeAnonymous(_ batch: [AnonymousWrite]) throws(PulseError)
}

/// The rules of a responses import, which every engine shares: the columns, each answer
/// against the survey version its round uses (range, type, required answers, cells for
/// questions the survey does not have), duplicates, and the anonymous batches.
public enum ResponsesImport {
    public static let fixedColumns = ["email", "token", "survey", "period", "submitted_at"]
    /// How many responses one call to the engine carries.
    static let batchSize = 500

    /// Imports answers collected elsewhere, all or nothing: every problem is listed (up to
    /// 1000) and thrown, after which the engine rolls back.
    ///
    /// Identified answers upsert by (email, survey, period). Anonymous answers are stored
    /// with no rep and no time. The anonymous answers of a round that one file brings are
    /// one batch: at least `threshold` of them, or the file is refused (written alone,
    /// fewer would be tied to the reps whose invitations the import marks answered). They
    /// are written after every invitation, in a random order with random ids, under the
    /// groups `AnonymousCells` leaves them, so that neither row order, ids, page offsets
    /// nor group tags line an answer up with its rep.
    /// - Parameters:
    ///   - surveys: the definitions in the surveys folder, by id.
    ///   - reps: the roster, by (lowercased) email.
    ///   - threshold: the anonymity threshold (`min_group_size`).
    public static func run(_ reader: CSVReader, surveys: [String: SurveyDefinition], map: [String: String], threshold: Int,
                           reps: [String: Rep], engine: inout some ResponsesImportEngine) throws(PulseError) -> ResponsesImportSummary {
        let file = reader.file
        let questionColumns = Set(surveys.values.flatMap { $0.questions.map(\.id) })
        let layout = try ColumnLayout(header: reader.header, file: file, required: ["survey", "period"],
                                      oneOf: [["email", "token"]], optional: ["submitted_at"], map: map)
        // Every other column is a candidate question id.
        var questionIndex: [String: Int] = [:]
        var summary = ResponsesImportSummary()
        for u in layout.unused {
            let id = u.name.lowercased()
            if questionColumns.contains(id) {
                questionIndex[id] = u.index
            } else {
                summary.warnings.append("\(file): column \"\(u.name)\" is not a question of any survey and was ignored")
            }
        }
        var repsByID: [Int64: Rep] = [:]
        for rep in reps.values { if let id = rep.id { repsByID[id] = rep } }

        var issues: [InputIssue] = []
        var roundCache: [String: (id: Int64, version: SurveyVersion)?] = [:]
        var pending: [ImportedResponse] = []
        var seen: [String: (line: Int, answers: [String: AnswerValue])] = [:]
        try reader.forEachRecord { record throws(PulseError) in
            let line = record.line
            func bad(_ field: String?, _ message: String) {
                issues.append(InputIssue(file: file, line: line, field: field, message))
            }
            func cell(_ i: Int?) -> String? {
                guard let i else { return nil }
                guard let s = record.string(i) else { return nil }
                let t = s.trimmingSpaces
                return t.isEmpty ? nil : t
            }
            guard let surveyID = cell(layout.index("survey")) else { return bad("survey", "is empty") }
            guard let fileDefinition = surveys[surveyID] ?? surveys[surveyID.lowercased()] else {
                return bad("survey", "unknown survey \"\(surveyID)\" (the surveys are: \(surveys.keys.sorted().joined(separator: ", ")))")
            }
            guard let periodText = cell(layout.index("period")) else { return bad("period", "is empty") }
            guard let period = Period(periodText) else {
                return bad("period", "\"\(periodText)\" is not a period: \(Period.hint)")
            }
            if let schedule = fileDefinition.schedule, schedule.periodKind != period.kind {
                return bad("period", "\"\(periodText)\" is a \(period.kind.rawValue), but \(fileDefinition.id) runs every \(schedule.every.rawValue): give a \(schedule.periodKind.rawValue)")
            }
            // The rep: by email, or by the personal token of an invitation.
            var rep: Rep?
            if let email = cell(layout.index("email"))?.lowercased() {
                rep = reps[email]
                if rep == nil { return bad("email", "\(email) is not in the roster (import it with pulse roster import)") }
            } else if let token = cell(layout.index("token")) {
                // A failed look-up is an error of the database, not a token that is unknown.
                guard let found = try engine.invitation(tokenHash: TokenKey.hash(token)) else {
                    return bad("token", "no invitation has this token")
                }
                guard found.survey == fileDefinition.id, found.period == period.description else {
                    return bad("token", "the token belongs to another survey or period")
                }
                rep = repsByID[found.repID]
            } else {
                return bad("email", "is empty: every row needs an email or a token")
            }
            guard let rep, let repID = rep.id else { return }
            // The definition that governs: the round's version, or the file for a new round.
            let key = "\(fileDefinition.id)|\(period)"
            let existing: (id: Int64, version: SurveyVersion)?
            if let cached = roundCache[key] {
                existing = cached
            } else {
                do { existing = try engine.round(survey: fileDefinition.id, period: period) } catch {
                    return bad(nil, "cannot read the round: \(error)")
                }
                roundCache[key] = existing
            }
            let definition = existing?.version.definition ?? fileDefinition
            var answers: [String: AnswerValue] = [:]
            for q in definition.questions {
                guard let raw = cell(questionIndex[q.id]) else {
                    if !q.isOptional { bad(q.id, "an answer is required") }
                    continue
                }
                switch q.parse(raw) {
                case let .success(v): answers[q.id] = v
                case let .failure(problem): bad(q.id, problem.message)
                }
            }
            for (id, i) in questionIndex where definition.question(id) == nil && cell(i) != nil {
                let which = existing.map { " (version \($0.version.number), used by the round \(period))" } ?? ""
                bad(id, "\(definition.id)\(which) has no question \"\(id)\"")
            }
            var submitted: String?
            if let s = cell(layout.index("submitted_at")) {
                if let date = Timestamp.parse(s) {
                    submitted = Timestamp.string(date)
                } else {
                    bad("submitted_at", "\"\(s)\" is not a date or time (2026-11-20 or 2026-11-20T09:30:00Z)")
                }
            }
            let answerKey = "\(rep.email)|\(definition.id)|\(period)"
            if let earlier = seen[answerKey] {
                if earlier.answers != answers {
                    bad(nil, "\(rep.email) answered \(definition.id) for \(period) on line \(earlier.line) too, with other answers; keep one row")
                }
                return
            }
            seen[answerKey] = (line, answers)
            pending.append(ImportedResponse(line: line, survey: definition, roundID: existing?.id, period: period, repID: repID,
                                            email: rep.email, keys: rep.groupKeys,
                                            submittedAt: definition.anonymity == .anonymous ? nil : submitted, answers: answers))
        }
        guard issues.isEmpty else { throw PulseError.invalidInput(issues) }
        seen = [:]

        // Rounds the file opens.
        var newRounds: [String: Int64] = [:]
        for i in pending.indices where pending[i].roundID == nil {
            let key = "\(pending[i].survey.id)|\(pending[i].period)"
            if let id = newRounds[key] {
                pending[i].roundID = id
                continue
            }
            let id = try engine.openRound(pending[i].survey, period: pending[i].period)
            newRounds[key] = id
            pending[i].roundID = id
            summary.roundsCreated.append("\(pending[i].survey.id) \(pending[i].period)")
        }
        if pending.contains(where: { $0.survey.anonymity == .anonymous && $0.submittedAt == nil }), layout.has("submitted_at") {
            summary.warnings.append("\(file): submitted_at is not kept for anonymous surveys")
        }
        // Every invitation first, in the file's order; the identified answers with them.
        var anonymous: [Int64: [ImportedResponse]] = [:]
        var start = 0
        while start < pending.count {
            let batch = Array(pending[start..<min(start + batchSize, pending.count)])
            start += batch.count
            let answeredBefore = try engine.markAnswered(batch)
            var identified: [ImportedResponse] = []
            for (p, before) in zip(batch, answeredBefore) {
                switch p.survey.anonymity {
                case .anonymous:
                    if before { summary.anonymousAlreadyAnswered += 1 } else { anonymous[p.roundID!, default: []].append(p) }
                case .identified:
                    identified.append(p)
                }
            }
            guard !identified.isEmpty else { continue }
            for outcome in try engine.storeIdentified(identified) {
                switch outcome {
                case .added: summary.added += 1
                case .updated: summary.updated += 1
                case .unchanged: summary.unchanged += 1
                }
            }
        }
        pending = []
        // Then each round's anonymous answers, as one batch.
        var rng = SystemRandomNumberGenerator()
        var small: [InputIssue] = []
        for (roundID, batch) in anonymous.sorted(by: { $0.value[0].line < $1.value[0].line }) {
            // The round's own threshold when its mail promised a larger one.
            let threshold = try engine.promise(threshold, roundID: roundID)
            guard let tags = AnonymousCells.tags(batch.map(\.keys), threshold: threshold) else {
                let first = batch[0]
                small.append(InputIssue(file: file, line: first.line, field: "survey",
                    "\(Plural.count(batch.count, "new anonymous answer")) to \(first.survey.id) \(first.period) in this file, fewer than "
                    + "min_group_size (\(threshold)): written alone, they would be tied to the reps this import marks as having "
                    + "answered; import them with at least \(threshold - batch.count) more of the round's answers"))
                continue
            }
            var writes: [AnonymousWrite] = []
            for i in batch.indices.shuffled(using: &rng) {
                writes.append(AnonymousWrite(id: Int64.random(in: 1...Int64.max, using: &rng), response: batch[i], tags: tags[i]))
                if writes.count == batchSize {
                    try engine.storeAnonymous(writes)
                    writes.removeAll(keepingCapacity: true)
                }
            }
            if !writes.isEmpty { try engine.storeAnonymous(writes) }
            summary.added += batch.count
        }
        guard small.isEmpty else { throw PulseError.invalidInput(small) }
        return summary
    }
}

/// Answers collected elsewhere, imported all or nothing by the rules of
/// `ResponsesImport`, on either engine.
public protocol ResponsesImportStore: Sendable {
    func importResponses(_ reader: CSVReader, surveys: [String: SurveyDefinition], map: [String: String],
                         threshold: Int, now: Date) async throws(PulseError) -> ResponsesImportSummary
}
