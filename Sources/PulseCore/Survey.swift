import Foundation
import Yams

/// Who can see a survey's answers.
public enum Anonymity: String, Codable, Sendable, CaseIterable {
    /// Answers are kept with the rep and feed their one-on-one note.
    case identified
    /// Answers are stored with no link to the rep and shown only for groups above the threshold.
    case anonymous
}

/// The language of a locale (`th` of `th_TH`, `pt` of `pt-BR`), English when there is none.
public func languageCode(_ locale: String?) -> String {
    (locale ?? "en").lowercased().split(whereSeparator: { $0 == "-" || $0 == "_" }).first.map(String.init) ?? "en"
}

/// A text in one language, or in several keyed by locale (`en`, `th`, `ms`, `ru`, `pt-BR`).
public struct LocalizedText: Codable, Sendable, Equatable {
    /// Locale → text. A text given as a plain string is stored under the empty key.
    public var texts: [String: String]

    public init(_ text: String) { texts = ["": text] }
    public init(_ texts: [String: String]) { self.texts = texts }

    /// The text for a locale: the exact locale, then its language, then English, then
    /// the first locale in alphabetical order.
    public func text(for locale: String?) -> String {
        if let single = texts[""] { return single }
        if let locale {
            let l = locale.replacingOccurrences(of: "_", with: "-").lowercased()
            if let t = texts.first(where: { $0.key.lowercased() == l })?.value { return t }
            let language = String(l.prefix { $0 != "-" })
            if let t = texts.first(where: { $0.key.lowercased() == language })?.value { return t }
        }
        if let en = texts["en"] { return en }
        return texts.sorted { $0.key < $1.key }.first?.value ?? ""
    }

    /// The locales the text is written in (empty for a single-language text).
    public var locales: [String] { texts.keys.filter { !$0.isEmpty }.sorted() }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            texts = ["": s]
        } else {
            texts = try c.decode([String: String].self)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        if let single = texts[""], texts.count == 1 { try c.encode(single) } else { try c.encode(texts) }
    }
}

public enum QuestionType: String, Codable, Sendable, CaseIterable {
    case scale, enps, text, choice
}

/// One option of a `choice` question: written as a plain string, or as `{id, text}`
/// when the text is translated.
public struct ChoiceOption: Codable, Sendable, Equatable {
    public var id: String
    public var text: LocalizedText

    public init(id: String, text: LocalizedText) { self.id = id; self.text = text }

    enum CodingKeys: String, CodingKey { case id, text }

    public init(from decoder: any Decoder) throws {
        if let s = try? decoder.singleValueContainer().decode(String.self) {
            id = s
            text = LocalizedText(s)
        } else {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(String.self, forKey: .id)
            text = try c.decodeIfPresent(LocalizedText.self, forKey: .text) ?? LocalizedText(id)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(text, forKey: .text)
    }
}

public struct Question: Codable, Sendable, Equatable {
    public var id: String
    public var type: QuestionType
    public var text: LocalizedText
    public var min: Int?
    public var max: Int?
    /// For `scale`: texts for some of the points, keyed by the point (`1: Drained`).
    public var labels: [String: LocalizedText]?
    public var options: [ChoiceOption]?
    public var optional: Bool?

    public init(id: String, type: QuestionType, text: LocalizedText, min: Int? = nil, max: Int? = nil,
                labels: [String: LocalizedText]? = nil, options: [ChoiceOption]? = nil, optional: Bool? = nil) {
        self.id = id; self.type = type; self.text = text; self.min = min; self.max = max
        self.labels = labels; self.options = options; self.optional = optional
    }

    enum CodingKeys: String, CodingKey { case id, type, text, min, max, labels, options, optional }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        type = try c.decode(QuestionType.self, forKey: .type)
        text = try c.decode(LocalizedText.self, forKey: .text)
        min = try c.decodeIfPresent(Int.self, forKey: .min)
        max = try c.decodeIfPresent(Int.self, forKey: .max)
        options = try c.decodeIfPresent([ChoiceOption].self, forKey: .options)
        optional = try c.decodeIfPresent(Bool.self, forKey: .optional)
        // Labels are keyed by scale points (`"1": Drained`). A plain [String: _] decode
        // takes such keys for array indexes and then cannot find them, so read the keys
        // as the strings they are.
        if c.contains(.labels), try !c.decodeNil(forKey: .labels) {
            let l = try c.nestedContainer(keyedBy: AnyKey.self, forKey: .labels)
            var labels: [String: LocalizedText] = [:]
            for k in l.allKeys { labels[k.stringValue] = try l.decode(LocalizedText.self, forKey: AnyKey(k.stringValue)) }
            self.labels = labels
        } else {
            labels = nil
        }
    }

    public var isOptional: Bool { optional ?? false }

    /// The bounds an answer must lie within, for `scale` and `enps`.
    public var bounds: ClosedRange<Int>? {
        switch type {
        case .enps: 0...10
        case .scale: min.flatMap { lo in max.map { hi in lo <= hi ? lo...hi : hi...lo } }
        case .text, .choice: nil
        }
    }

    /// Longest text answer kept, in characters.
    public static let maxTextLength = 5000

    /// Checks one answer written as text (a CSV cell, a form field).
    /// - Returns: the value, or a message saying what is wrong with it.
    public func parse(_ raw: String) -> Result<AnswerValue, AnswerProblem> {
        switch type {
        case .scale, .enps:
            let t = raw.trimmingSpaces
            guard let v = Int(t) else { return .failure(.init("\"\(raw)\" is not a whole number")) }
            let b = bounds!
            guard b.contains(v) else {
                return .failure(.init("\(v) is out of range: \(type == .enps ? "an eNPS answer is" : "answers are") \(b.lowerBound) to \(b.upperBound)"))
            }
            return .success(.number(v))
        case .text:
            let t = raw.trimmingSpaces
            guard t.count <= Self.maxTextLength else {
                return .failure(.init("the text is \(t.count) characters long; at most \(Self.maxTextLength) are kept"))
            }
            return .success(.text(t))
        case .choice:
            let t = raw.trimmingSpaces
            let opts = options ?? []
            if let o = opts.first(where: { $0.id == t }) ?? opts.first(where: { $0.id.lowercased() == t.lowercased() }) {
                return .success(.choice(o.id))
            }
            return .failure(.init("\"\(raw)\" is not one of the options (\(opts.map(\.id).joined(separator: ", ")))"))
        }
    }
}

/// What is wrong with one answer.
public struct AnswerProblem: Error, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// One stored answer.
public enum AnswerValue: Sendable, Equatable, Hashable {
    case number(Int)
    case text(String)
    case choice(String)

    public var number: Int? { if case let .number(v) = self { v } else { nil } }
    public var text: String? {
        switch self {
        case .number: nil
        case let .text(s), let .choice(s): s
        }
    }
}

/// When a survey goes out on its own (read by `pulse tick`).
public struct Schedule: Codable, Sendable, Equatable {
    public enum Every: String, Codable, Sendable, CaseIterable {
        case week, twoWeeks = "2weeks", month, quarter
    }

    public var every: Every
    /// A weekday in English (`monday`); for month and quarter, the first such weekday.
    public var on: String?
    /// Local time `HH:MM` in each rep's own time zone.
    public var at: String?
    public var closeAfterDays: Int?

    public init(every: Every, on: String? = nil, at: String? = nil, closeAfterDays: Int? = nil) {
        self.every = every; self.on = on; self.at = at; self.closeAfterDays = closeAfterDays
    }

    enum CodingKeys: String, CodingKey {
        case every, on, at
        case closeAfterDays = "close_after_days"
    }

    public static let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    /// ISO weekday number (1 = Monday) of `on`, Monday when absent.
    public var weekday: Int? { Self.weekdays.firstIndex(of: (on ?? "monday").lowercased()).map { $0 + 1 } }

    /// `at` as hours and minutes, 09:00 when absent.
    public var time: (hour: Int, minute: Int)? {
        let parts = (at ?? "09:00").split(separator: ":")
        guard parts.count == 2, parts[0].count <= 2, parts[1].count == 2,
              let h = Int(parts[0]), let m = Int(parts[1]), (0...23).contains(h), (0...59).contains(m) else { return nil }
        return (h, m)
    }

    /// The kind of period one round covers.
    public var periodKind: Period.Kind {
        switch every {
        case .week, .twoWeeks: .week
        case .month: .month
        case .quarter: .quarter
        }
    }
}

/// A survey definition as written in `Surveys/*.yaml`.
public struct SurveyDefinition: Codable, Sendable, Equatable {
    public var id: String
    public var title: LocalizedText
    public var anonymity: Anonymity
    public var schedule: Schedule?
    /// A sentence shown above the questions (optional).
    public var intro: LocalizedText?
    public var questions: [Question]

    public init(id: String, title: LocalizedText, anonymity: Anonymity, schedule: Schedule? = nil,
                intro: LocalizedText? = nil, questions: [Question]) {
        self.id = id; self.title = title; self.anonymity = anonymity; self.schedule = schedule
        self.intro = intro; self.questions = questions
    }

    public static let maxQuestions = 10
    /// Column names of the responses file that a question id may not take.
    public static let reservedIds: Set<String> = ["email", "token", "survey", "period", "submitted_at"]

    public func question(_ id: String) -> Question? { questions.first { $0.id == id } }

    public var enpsQuestion: Question? { questions.first { $0.type == .enps } }

    /// The morale index of one response (the contract's definition): the mean over its
    /// scale answers of 100 × (answer − min) / (max − min); `nil` with no scale answer.
    public func morale(of answers: [String: AnswerValue]) -> Double? {
        var sum = 0.0, n = 0
        for q in questions where q.type == .scale {
            guard let v = answers[q.id]?.number, let b = q.bounds, b.upperBound > b.lowerBound else { continue }
            sum += 100 * Double(v - b.lowerBound) / Double(b.upperBound - b.lowerBound)
            n += 1
        }
        return n == 0 ? nil : sum / Double(n)
    }

    /// The definition as canonical JSON (sorted keys): what a round stores as its version.
    public func canonicalJSON() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain values cannot fail.
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    public static func fromCanonicalJSON(_ json: String) throws -> SurveyDefinition {
        try JSONDecoder().decode(SurveyDefinition.self, from: Data(json.utf8))
    }
}

// MARK: - Loading and validation

extension SurveyDefinition {
    /// Decodes and validates a definition written in YAML.
    /// - Parameters:
    ///   - yaml: the file's text.
    ///   - file: the name used in error messages.
    /// - Throws: `PulseError.invalidInput` listing every problem, each with its line.
    public static func load(yaml: String, file: String) throws(PulseError) -> SurveyDefinition {
        let node: Node
        do {
            guard let n = try Yams.compose(yaml: yaml) else {
                throw PulseError.input(InputIssue(file: file, "the file is empty"))
            }
            node = n
        } catch let e as PulseError {
            throw e
        } catch let YamlError.scanner(_, problem, mark, _), let YamlError.parser(_, problem, mark, _),
                let YamlError.composer(_, problem, mark, _) {
            throw .input(InputIssue(file: file, line: mark.line, "not valid YAML: \(problem)"))
        } catch {
            throw .input(InputIssue(file: file, "not valid YAML: \(error)"))
        }
        let oversized = YAMLSafety.oversizedBase60(in: node)
        guard oversized.isEmpty else {
            throw .invalidInput(oversized.map { InputIssue(file: file, line: $0, "a number written with colons (base 60) is too large") })
        }
        // Every wrong type and missing key at once (the decoder stops at the first one).
        let typeIssues = typeProblems(in: node)
        if !typeIssues.isEmpty {
            let all = (typeIssues + unknownKeys(in: node)).sorted { line(of: $0.path, in: node) ?? 0 < line(of: $1.path, in: node) ?? 0 }
            throw .invalidInput(all.map { problem in
                InputIssue(file: file, line: line(of: problem.path, in: node), field: fieldName(problem.path), problem.message)
            })
        }
        let definition: SurveyDefinition
        do {
            definition = try YAMLDecoder().decode(SurveyDefinition.self, from: plainLabelKeys(node))
        } catch let DecodingError.keyNotFound(key, context) {
            let path = context.codingPath
            throw .input(InputIssue(file: file, line: line(of: path, in: node), field: fieldName(path + [key]),
                                    "is required"))
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
                let DecodingError.dataCorrupted(context) {
            let path = context.codingPath
            throw .input(InputIssue(file: file, line: line(of: path, in: node), field: fieldName(path),
                                    describe(context, at: path, in: node)))
        } catch {
            throw .input(InputIssue(file: file, "\(error)"))
        }
        let issues = (unknownKeys(in: node) + definition.validate()).map { problem in
            InputIssue(file: file, line: line(of: problem.path, in: node), field: fieldName(problem.path), problem.message)
        }
        guard issues.isEmpty else { throw .invalidInput(issues) }
        return definition
    }

    /// Yams finds a mapping key by resolving the name it is asked for, so a quoted label
    /// key (`"1": Drained`, a string) is not found under the name `1` (an integer).
    /// Label keys are re-made as plain scalars before decoding; line numbers for errors
    /// still come from the original node.
    static func plainLabelKeys(_ node: Node) -> Node {
        guard let questions = node["questions"]?.sequence else { return node }
        var root = node
        let rebuilt = questions.map { question -> Node in
            guard let labels = question["labels"]?.mapping else { return question }
            var q = question
            q["labels"] = Node(labels.map { (Node($0.key.string ?? ""), $0.value) }, labels.tag, labels.style)
            return q
        }
        root["questions"] = Node(Array(rebuilt), questions.tag, questions.style)
        return root
    }

    /// Keys that no part of a definition reads: most often a typo (`optinal: true`)
    /// that would otherwise be ignored without a word.
    static func unknownKeys(in node: Node) -> [Problem] {
        let top: Set = ["id", "title", "anonymity", "schedule", "intro", "questions"]
        let question: Set = ["id", "type", "text", "min", "max", "labels", "options", "optional"]
        let schedule: Set = ["every", "on", "at", "close_after_days"]
        var problems: [Problem] = []
        func check(_ n: Node?, _ allowed: Set<String>, _ path: [any CodingKey]) {
            guard let mapping = n?.mapping else { return }
            for (k, _) in mapping {
                guard let name = k.string, !allowed.contains(name) else { continue }
                problems.append(Problem(path: path + [AnyKey(name)],
                    message: "unknown key; expected one of: \(allowed.sorted().joined(separator: ", "))"))
            }
        }
        check(node, top, [])
        check(node["schedule"], schedule, [AnyKey("schedule")])
        for (i, q) in (node["questions"]?.sequence.map(Array.init) ?? []).enumerated() {
            check(q, question, [AnyKey("questions"), AnyKey(index: i)])
        }
        return problems
    }

    /// The id a file gives itself, when it can be read: to name a broken file by its survey.
    public static func declaredID(yaml: String) -> String? {
        guard let node = try? Yams.compose(yaml: yaml), let id = node["id"]?.scalar?.string, !id.isEmpty else { return nil }
        return id
    }

    /// Keys that are missing and values of the wrong type, all of them, in the document's terms.
    static func typeProblems(in node: Node) -> [Problem] {
        var problems: [Problem] = []
        func add(_ path: [any CodingKey], _ message: String) { problems.append(Problem(path: path, message: message)) }
        func key(_ s: String) -> any CodingKey { AnyKey(s) }
        func value(_ n: Node) -> String { n.scalar.map { "\"\($0.string)\"" } ?? (n.sequence != nil ? "a list" : "a mapping") }
        func scalar(_ n: Node?, _ path: [any CodingKey], required: Bool) {
            guard let n else { if required { add(path, "is required") }; return }
            if n.scalar == nil { add(path, "\(value(n)) is not valid here: a single value is expected") }
        }
        func oneOf(_ n: Node?, _ path: [any CodingKey], _ allowed: [String], required: Bool) {
            guard let n else { if required { add(path, "is required") }; return }
            guard let v = n.scalar?.string, allowed.contains(v) else {
                add(path, "\(value(n)) is not one of: \(allowed.joined(separator: ", "))")
                return
            }
        }
        func whole(_ n: Node?, _ path: [any CodingKey]) {
            guard let n, !(n.scalar.map { Self.isNull($0) } ?? false) else { return }
            if n.scalar.flatMap(Int.construct(from:)) == nil { add(path, "\(value(n)) is not a whole number") }
        }
        func bool(_ n: Node?, _ path: [any CodingKey]) {
            guard let n, !(n.scalar.map { Self.isNull($0) } ?? false) else { return }
            if n.scalar.flatMap(Bool.construct(from:)) == nil { add(path, "\(value(n)) is not true or false") }
        }
        func text(_ n: Node?, _ path: [any CodingKey], required: Bool) {
            guard let n else { if required { add(path, "is required") }; return }
            if n.scalar != nil { return }
            guard let m = n.mapping else { add(path, "a list is not a text: give a string, or a map from locale to string"); return }
            for (k, v) in m where v.scalar == nil {
                add(path + [key(k.string ?? "")], "\(value(v)) is not a text")
            }
        }
        guard let top = node.mapping else {
            add([], "a survey definition is a mapping of keys (id, title, anonymity, questions), not \(value(node))")
            return problems
        }
        _ = top
        scalar(node["id"], [key("id")], required: true)
        text(node["title"], [key("title")], required: true)
        text(node["intro"], [key("intro")], required: false)
        oneOf(node["anonymity"], [key("anonymity")], Anonymity.allCases.map(\.rawValue), required: true)
        if let sched = node["schedule"] {
            if sched.mapping == nil {
                add([key("schedule")], "\(value(sched)) is not a schedule: give every, on, at and close_after_days")
            } else {
                oneOf(sched["every"], [key("schedule"), key("every")], Schedule.Every.allCases.map(\.rawValue), required: true)
                scalar(sched["on"], [key("schedule"), key("on")], required: false)
                scalar(sched["at"], [key("schedule"), key("at")], required: false)
                whole(sched["close_after_days"], [key("schedule"), key("close_after_days")])
            }
        }
        guard let questions = node["questions"] else { add([key("questions")], "is required"); return problems }
        guard let list = questions.sequence else {
            add([key("questions")], "\(value(questions)) is not a list of questions")
            return problems
        }
        for (i, q) in list.enumerated() {
            let at: [any CodingKey] = [key("questions"), AnyKey(index: i)]
            guard q.mapping != nil else { add(at, "\(value(q)) is not a question: give id, type and text"); continue }
            scalar(q["id"], at + [key("id")], required: true)
            oneOf(q["type"], at + [key("type")], QuestionType.allCases.map(\.rawValue), required: true)
            text(q["text"], at + [key("text")], required: true)
            whole(q["min"], at + [key("min")])
            whole(q["max"], at + [key("max")])
            bool(q["optional"], at + [key("optional")])
            if let labels = q["labels"] {
                if let m = labels.mapping {
                    for (k, v) in m { text(v, at + [key("labels"), key(k.string ?? "")], required: true) }
                } else {
                    add(at + [key("labels")], "\(value(labels)) is not a map from scale point to label")
                }
            }
            if let options = q["options"] {
                if let opts = options.sequence {
                    for (j, o) in opts.enumerated() where o.scalar == nil {
                        let oat = at + [key("options"), AnyKey(index: j)]
                        guard o.mapping != nil else { add(oat, "a list is not an option"); continue }
                        scalar(o["id"], oat + [key("id")], required: true)
                        text(o["text"], oat + [key("text")], required: false)
                    }
                } else {
                    add(at + [key("options")], "\(value(options)) is not a list of options")
                }
            }
        }
        return problems
    }

    private static func isNull(_ s: Node.Scalar) -> Bool {
        s.style == .plain && ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    private static func describe(_ context: DecodingError.Context, at path: [any CodingKey], in node: Node) -> String {
        let key = path.last?.stringValue
        let value = resolve(path, in: node)?.scalar?.string
        switch key {
        case "anonymity":
            return "\"\(value ?? "")\" is not one of: \(Anonymity.allCases.map(\.rawValue).joined(separator: ", "))"
        case "type":
            return "\"\(value ?? "")\" is not one of: \(QuestionType.allCases.map(\.rawValue).joined(separator: ", "))"
        case "every":
            return "\"\(value ?? "")\" is not one of: \(Schedule.Every.allCases.map(\.rawValue).joined(separator: ", "))"
        case "min", "max", "close_after_days":
            return "\"\(value ?? "")\" is not a whole number"
        default:
            return value.map { "\"\($0)\" is not valid here" } ?? context.debugDescription
        }
    }

    /// A problem found by `validate()`, located by its path in the document.
    public struct Problem: Sendable, CustomStringConvertible {
        public var path: [any CodingKey]
        public var message: String
        public var description: String { "\(SurveyDefinition.fieldName(path) ?? "survey"): \(message)" }
    }

    /// Checks the rules that the types alone do not enforce.
    public func validate() -> [Problem] {
        var problems: [Problem] = []
        func add(_ path: [any CodingKey], _ message: String) { problems.append(Problem(path: path, message: message)) }
        func key(_ s: String) -> any CodingKey { AnyKey(s) }
        let idPattern = #/^[a-z0-9][a-z0-9_-]{0,63}$/#

        if (try? idPattern.wholeMatch(in: id)) == nil {
            add([key("id")], "\"\(id)\" is not a valid id: use lower-case letters, digits, - and _")
        }
        checkText(title, [key("title")], &problems)
        if let intro { checkText(intro, [key("intro")], &problems) }
        if questions.isEmpty || questions.count > Self.maxQuestions {
            add([key("questions")], "a survey has 1 to \(Self.maxQuestions) questions (a pulse stays short); this one has \(questions.count)")
        }
        func checkLabels(_ q: Question, _ points: ClosedRange<Int>, _ at: [any CodingKey]) {
            for (point, text) in q.labels ?? [:] {
                if let p = Int(point), points.contains(p) {
                    checkText(text, at + [key("labels"), key(point)], &problems)
                } else {
                    add(at + [key("labels"), key(point)],
                        "\"\(point)\" is not a point of the scale \(points.lowerBound)..\(points.upperBound)")
                }
            }
        }
        var seen: Set<String> = []
        for (i, q) in questions.enumerated() {
            let at: [any CodingKey] = [key("questions"), AnyKey(index: i)]
            if (try? idPattern.wholeMatch(in: q.id)) == nil || q.id.contains("-") {
                add(at + [key("id")], "\"\(q.id)\" is not a valid question id: use lower-case letters, digits and _")
            } else if Self.reservedIds.contains(q.id) {
                add(at + [key("id")], "\"\(q.id)\" is a column name of the responses file; choose another id")
            }
            if !seen.insert(q.id).inserted { add(at + [key("id")], "\"\(q.id)\" is used by two questions") }
            checkText(q.text, at + [key("text")], &problems)
            switch q.type {
            case .scale:
                guard let lo = q.min, let hi = q.max else {
                    add(at, "a scale question needs min and max")
                    continue
                }
                // Subtracted with overflow reported: a file may hold any whole numbers.
                let (span, overflow) = hi.subtractingReportingOverflow(lo)
                if lo >= hi {
                    add(at + [key("max")], "the scale \(lo)..\(hi) must run from a smaller min to a larger max")
                } else if overflow || span > 10 {
                    add(at + [key("max")], "the scale \(lo)..\(hi) has \(overflow ? "more than 11" : String(span + 1)) points; at most 11 are allowed")
                } else {
                    checkLabels(q, lo...hi, at)
                }
                if q.options != nil { add(at + [key("options")], "options belong to choice questions") }
            case .enps:
                if (q.min ?? 0) != 0 || (q.max ?? 10) != 10 {
                    add(at + [key(q.min ?? 0 != 0 ? "min" : "max")], "an enps question is fixed at 0 to 10")
                }
                checkLabels(q, 0...10, at)
                if questions.prefix(i).contains(where: { $0.type == .enps }) {
                    add(at + [key("type")], "a survey has at most one enps question")
                }
            case .text:
                if q.min != nil || q.max != nil { add(at, "a text question has no min or max") }
            case .choice:
                let opts = q.options ?? []
                if opts.count < 2 { add(at + [key("options")], "a choice question needs at least two options") }
                var ids: Set<String> = []
                for (j, o) in opts.enumerated() where !ids.insert(o.id.lowercased()).inserted || o.id.isEmpty {
                    add(at + [key("options"), AnyKey(index: j)], o.id.isEmpty ? "an option needs an id" : "\"\(o.id)\" is listed twice")
                }
            }
        }
        if let s = schedule {
            if s.weekday == nil {
                add([key("schedule"), key("on")], "\"\(s.on ?? "")\" is not a weekday (\(Schedule.weekdays.joined(separator: ", ")))")
            }
            if s.time == nil { add([key("schedule"), key("at")], "\"\(s.at ?? "")\" is not a time of day as HH:MM") }
            if let d = s.closeAfterDays, !(1...90).contains(d) {
                add([key("schedule"), key("close_after_days")], "\(d) is not between 1 and 90 days")
            }
        }
        return problems
    }

    private func checkText(_ text: LocalizedText, _ path: [any CodingKey], _ problems: inout [Problem]) {
        if text.texts.isEmpty {
            problems.append(Problem(path: path, message: "a text is required"))
        }
        for (locale, t) in text.texts {
            if t.trimmingSpaces.isEmpty {
                problems.append(Problem(path: locale.isEmpty ? path : path + [AnyKey(locale)], message: "the text is empty"))
            }
            if !locale.isEmpty, (try? #/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/#.wholeMatch(in: locale)) == nil {
                problems.append(Problem(path: path + [AnyKey(locale)], message: "\"\(locale)\" is not a locale code (en, th, ms, ru, pt-BR)"))
            }
        }
    }

    static func fieldName(_ path: [any CodingKey]) -> String? {
        guard !path.isEmpty else { return nil }
        var s = ""
        for k in path {
            if let i = k.intValue { s += "[\(i)]" } else { s += s.isEmpty ? k.stringValue : ".\(k.stringValue)" }
        }
        return s
    }

    static func resolve(_ path: some Collection<any CodingKey>, in node: Node) -> Node? {
        var current: Node? = node
        for k in path {
            guard let n = current else { return nil }
            if let i = k.intValue, let seq = n.sequence {
                current = i < seq.count ? seq[i] : nil
            } else {
                current = n.mapping?[k.stringValue]
            }
        }
        return current
    }

    /// The line of the deepest node on `path` that exists.
    static func line(of path: [any CodingKey], in node: Node) -> Int? {
        var p = path
        while true {
            // A key's own line: a list or mapping value starts on the line after it.
            if let last = p.last, last.intValue == nil, let parent = resolve(p.dropLast(), in: node)?.mapping,
               let key = parent.first(where: { $0.key.string == last.stringValue })?.key, let line = key.mark?.line {
                return line
            }
            if let n = resolve(p, in: node), let line = n.mark?.line { return line }
            if p.isEmpty { return nil }
            p.removeLast()
        }
    }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ s: String) { stringValue = s }
    init(index: Int) { stringValue = "\(index)"; intValue = index }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { self.init(index: intValue) }
}

extension Schedule {
    /// Whether a round goes out for this period: every period of its kind; for `2weeks`,
    /// every 14 days across years, in the ISO weeks an odd number of weeks after the week
    /// of 1970-01-05 (2026-W49, W51, W53, 2027-W02, ...).
    public func runs(in period: Period) -> Bool {
        guard period.kind == periodKind else { return false }
        if every == .twoWeeks { return ((period.start.ordinal - 4) / 7) % 2 == 1 }
        return true
    }

    /// The day of a period a round goes out: its first day that falls on `on`.
    public func sendDay(in period: Period) -> Day {
        let target = weekday ?? 1
        let start = period.start
        return start + ((target - start.weekday) + 7) % 7
    }

    /// The moment a rep in `zone` is due for `period`: the send day at `at`, their local time.
    public func sendInstant(in period: Period, zone: TimeZone) -> Date {
        let t = time ?? (9, 0)
        return LocalTime.instant(sendDay(in: period), hour: t.hour, minute: t.minute, in: zone)
    }

    /// The period a rep in `zone` is in at `now` (by their own calendar) and the moment
    /// they were due for it, when a round of this schedule runs in it and that moment has
    /// come; `nil` otherwise.
    public func due(at now: Date, zone: TimeZone) -> (period: Period, sendAt: Date)? {
        let period = Period.containing(LocalTime.day(of: now, in: zone), kind: periodKind)
        guard runs(in: period) else { return nil }
        let at = sendInstant(in: period, zone: zone)
        return at <= now ? (period, at) : nil
    }

    /// When the next round goes out for a rep in `zone`, after `now`.
    public func next(after now: Date, zone: TimeZone) -> (period: Period, sendAt: Date) {
        var period = Period.containing(LocalTime.day(of: now, in: zone), kind: periodKind)
        for _ in 0..<8 {
            if runs(in: period) {
                let at = sendInstant(in: period, zone: zone)
                if at > now { return (period, at) }
            }
            period = period.next
        }
        return (period, sendInstant(in: period, zone: zone))
    }

    /// Days a round stays open for each rep after their invitation (7 when not set).
    public var openDays: Int { closeAfterDays ?? 7 }

    /// When a round opened at `now` closes: `openDays` after the last send time among the
    /// reps' zones (or after `now`, when that is later), so that no rep is invited to a
    /// round that has closed, nor gets less than their whole window.
    public func roundCloses(in period: Period, zones: [TimeZone], now: Date) -> Date {
        let last = zones.map { sendInstant(in: period, zone: $0) }.max() ?? now
        return max(last, now).addingTimeInterval(Double(openDays) * 86_400)
    }
}

/// Local days and times in a time zone, daylight saving included.
public enum LocalTime {
    /// The calendar day `date` falls on in `zone`.
    public static func day(of date: Date, in zone: TimeZone) -> Day {
        Day(ordinal: Int(((date.timeIntervalSince1970 + Double(zone.secondsFromGMT(for: date))) / 86_400).rounded(.down)))
    }

    /// The moment a local date and time happen in a zone. A time that a daylight-saving
    /// change skips is the first moment after the gap.
    public static func instant(_ day: Day, hour: Int, minute: Int, in zone: TimeZone) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let p = day.parts
        return calendar.date(from: DateComponents(year: p.year, month: p.month, day: p.day, hour: hour, minute: minute))
            ?? Date(timeIntervalSince1970: Double(day.ordinal) * 86_400)
    }
}
