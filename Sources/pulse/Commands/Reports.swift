import ArgumentParser
import Foundation
import PulseCore
import PulseStore
import PulseService

extension Period: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public static var defaultCompletionKind: CompletionKind { .default }
}

extension GroupBy: ExpressibleByArgument {}

/// `--period P` or `--from P --to P`.
struct RangeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("One period: 2026-W47, 2026-11 or 2026-Q4.", valueName: "period"))
    var period: Period?

    @Option(help: ArgumentHelp("First period of a range (included).", valueName: "period"))
    var from: Period?

    @Option(help: ArgumentHelp("Last period of a range (included).", valueName: "period"))
    var to: Period?

    func validate() throws {
        if period != nil && (from != nil || to != nil) {
            throw ValidationError("give either --period or --from and --to, not both")
        }
        if let from, let to, from.start > to.end {
            throw ValidationError("--from \(from) is after --to \(to)")
        }
    }

    /// The range asked for; without flags, every round of the survey.
    func resolve(db: AppDatabase, survey: String) throws -> PeriodRange {
        if let period { return PeriodRange(period) }
        let rounds = try db.rounds(survey: survey).map(\.period)
        guard let first = from ?? rounds.min(), let last = to ?? rounds.max() else {
            throw PulseError.usage("\(survey) has no rounds yet: give --period or --from and --to")
        }
        return try PeriodRange(from: first, to: max(last, first))
    }
}

extension RangeOptions {
    /// The range asked for, read through any engine.
    func resolve(store: any RoundStore, survey: String) async throws(PulseError) -> PeriodRange {
        if let period { return PeriodRange(period) }
        let rounds = try await store.rounds(survey: survey).map(\.period)
        guard let first = from ?? rounds.min(), let last = to ?? rounds.max() else {
            throw PulseError.usage("\(survey) has no rounds yet: give --period or --from and --to")
        }
        return try PeriodRange(from: first, to: max(last, first))
    }
}

/// Checks that a survey is known to the store, with a helpful list otherwise.
func requireSurvey(_ id: String, in store: any RoundStore & ReportStore) async throws(PulseError) {
    guard try await store.knowsSurvey(id) else {
        let known = Set(try await store.rounds(survey: nil).map(\.surveyID)).sorted()
        throw Closest.unknown("survey with answers", id, known: known, listLabel: "the surveys with rounds are")
    }
}

/// Checks that a survey is known to the database, with a helpful list otherwise.
func requireSurvey(_ id: String, in db: AppDatabase) throws {
    guard try db.knowsSurvey(id) else {
        let known = Set(try db.rounds().map(\.surveyID)).sorted()
        throw Closest.unknown("survey with answers", id, known: known, listLabel: "the surveys with rounds are")
    }
}

extension Pulse {
    struct ENPS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "enps",
            abstract: "eNPS per group with its 95% interval, above the anonymity threshold.",
            discussion: """
                Promoters answer 9-10, passives 7-8, detractors 0-6. \
                eNPS = 100 × (promoters − detractors) / responses, rounded to one decimal.
                """)

        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("The survey id.", valueName: "id"), completion: .surveyIDs) var survey: String
        @OptionGroup var range: RangeOptions
        @Option(help: "Group by team, manager, region or all.") var by: GroupBy = .all
        @OptionGroup var output: FormatOption

        func run() async throws {
            let config = try global.loadConfig()
            let store = try await global.openStore(config: config)
            try await requireSurvey(survey, in: store)
            let r = try await range.resolve(store: store, survey: survey)
            let report = try await ReportQueries.enps(store, survey: survey, range: r, by: by, minGroupSize: config.anonymityThreshold)
            switch output.format {
            case .json: Terminal.out(report.json.serialized() + "\n")
            case .csv: Terminal.out(report.csv)
            case .table: Terminal.out(report.table(style: Terminal.style, minGroupSize: config.anonymityThreshold))
            }
            try await noteAnonymousAnswersLeftOut(store: store, survey: survey, range: r, minGroupSize: config.anonymityThreshold)
        }
    }

    struct Trends: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "trends",
            abstract: "Morale per group and period, above the anonymity threshold.",
            discussion: """
                Morale of a response: the mean over its scale answers of 100 × (answer − min) / (max − min). \
                A rep's morale for a period is the mean of their responses; a group's, the mean over its reps.
                """)

        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("The survey id.", valueName: "id"), completion: .surveyIDs) var survey: String
        @OptionGroup var range: RangeOptions
        @Option(help: "Group by team, manager, region or all.") var by: GroupBy = .all
        @OptionGroup var output: FormatOption

        func run() async throws {
            let config = try global.loadConfig()
            let store = try await global.openStore(config: config)
            try await requireSurvey(survey, in: store)
            let r = try await range.resolve(store: store, survey: survey)
            let report = try await ReportQueries.trends(store, survey: survey, range: r, by: by, minGroupSize: config.anonymityThreshold)
            switch output.format {
            case .json: Terminal.out(report.json.serialized() + "\n")
            case .csv: Terminal.out(report.csv)
            case .table: Terminal.out(report.table(style: Terminal.style, minGroupSize: config.anonymityThreshold))
            }
            try await noteAnonymousAnswersLeftOut(store: store, survey: survey, range: r, minGroupSize: config.anonymityThreshold)
        }
    }
}

/// The same through any engine.
func noteAnonymousAnswersLeftOut(store: any ReportStore, survey: String, range: PeriodRange, minGroupSize: Int) async throws(PulseError) {
    for left in try await store.anonymousAnswersLeftOut(survey: survey, range: range, minGroupSize: minGroupSize) {
        noteLeftOut(left.answers, survey: survey, period: left.period, minGroupSize: minGroupSize)
    }
}

func noteLeftOut(_ n: Int, survey: String, period: Period, minGroupSize: Int) {
    Terminal.note("left out: \(n) anonymous \(n == 1 ? "answer" : "answers") to \(survey) \(period), fewer than "
        + "min_group_size (\(minGroupSize)) in that round; no figure uses them")
}

/// Says which anonymous answers no figure uses (a round with fewer than the threshold),
/// on stderr beside any format.
func noteAnonymousAnswersLeftOut(db: AppDatabase, survey: String, range: PeriodRange, minGroupSize: Int) throws {
    for (period, n) in try db.anonymousAnswersLeftOut(survey: survey, range: range, minGroupSize: minGroupSize) {
        noteLeftOut(n, survey: survey, period: period, minGroupSize: minGroupSize)
    }
}
