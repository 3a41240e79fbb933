import ArgumentParser
import Foundation
import PulseCore
import PulseStore
import PulseService

extension KPI: ExpressibleByArgument {}
extension DateFormat: ExpressibleByArgument {}
extension DecimalMark: ExpressibleByArgument {
    public static var allValueStrings: [String] { [".", ","] }
}

extension Pulse {
    struct KPICommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "kpi", abstract: "Sales activity and quotas: import them, show them by week.",
            subcommands: [Import.self, Show.self, Delete.self])

        struct Import: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "import",
                abstract: "Import activity rows (or quotas with --quota) from a CRM export.",
                discussion: """
                    Activity: email, date, then calls, emails, meetings, opportunities_created, deals_won, \
                    deals_lost, revenue_won, pipeline_value (all optional). Quotas: email, period (a month \
                    or a quarter), quota. Empty cells are missing values, not zeros; money may carry \
                    currency signs and thousands separators ($1,234.50, 1 234,50 ₽). An amount like \
                    1,234, 1.234 or 1,5 could be read with either mark for decimals: the file's other \
                    amounts decide (1,234.50 elsewhere says "."), or --decimal does, with a warning naming \
                    the line; when neither does, the file is refused. All or nothing: a file with any bad \
                    row writes nothing. Opportunities: status open, won or lost, or a CRM stage (Closed Won, \
                    Closed Lost; any other stage is open); a won or lost one needs its close date, an open \
                    one's is ignored. Leads: converted is the day it converted, empty while not.
                    """)
            @OptionGroup var global: GlobalOptions
            @Argument(help: ArgumentHelp("The CSV file.", valueName: "file"), completion: .csvFile) var file: String
            @Flag(help: "The file holds quotas (email, period, quota).") var quota = false
            @Flag(help: "The file holds opportunities (id, email, created, closed, status, amount), upserted by id.")
            var opportunities = false
            @Flag(help: "The file holds leads (id, email, created, converted), upserted by id.") var leads = false
            @Option(name: .customLong("map"), parsing: .singleValue,
                    help: ArgumentHelp("Read a column from another header: column=Header (repeatable).", valueName: "column=Header"))
            var maps: [String] = []
            @Option(help: ArgumentHelp("How dates are written: YYYY-MM-DD, MM/DD/YYYY, DD/MM/YYYY or DD.MM.YYYY.", valueName: "format"))
            var dateFormat: DateFormat = .iso
            @Option(help: ArgumentHelp("The decimal mark of amounts that could be read two ways (1,234 or 1,5): . or ,",
                                       valueName: "mark"))
            var decimal: DecimalMark?
            @Flag(help: "Leave out rows of emails not in the roster (counted and named) instead of refusing the file.")
            var skipUnknown = false

            func validate() throws {
                guard [quota, opportunities, leads].filter({ $0 }).count <= 1 else {
                    throw ValidationError("give one of --quota, --opportunities and --leads: a file holds one kind of rows")
                }
            }

            func run() async throws {
                let db = try await global.openStore(config: try global.loadConfig(), startsWorkspace: true)
                let reader = try csvReader(file)
                let summary: KPIImportSummary
                let kind = quota ? "quotas" : opportunities ? "opportunities" : leads ? "leads" : "activity"
                if opportunities || leads {
                    let options = PipelineImportOptions(
                        map: try ColumnLayout.parseMap(maps, known: opportunities ? PipelineImport.opportunityColumns : PipelineImport.leadColumns),
                        dateFormat: dateFormat, decimal: decimal, skipUnknown: skipUnknown)
                    summary = opportunities ? try await db.importOpportunities(reader, options: options)
                                            : try await db.importLeads(reader, options: options)
                } else if quota {
                    summary = try await db.importQuotas(reader, map: try ColumnLayout.parseMap(maps, known: KPIImport.quotaColumns),
                                                        decimal: decimal, skipUnknown: skipUnknown)
                } else {
                    let options = ActivityImportOptions(map: try ColumnLayout.parseMap(maps, known: KPIImport.activityColumns),
                                                        dateFormat: dateFormat, decimal: decimal, skipUnknown: skipUnknown,
                                                        today: global.today)
                    let file = self.file
                    summary = try await db.importActivity(reader, options: options,
                                                          progress: { Terminal.progress("read \($0) rows of \(file)") })
                    Terminal.endProgress()
                }
                for w in summary.warnings { Terminal.warn(w) }
                for n in summary.notes { Terminal.note(n) }
                var text = "\(kind): \(summary.added) added, \(summary.updated) updated, \(summary.unchanged) unchanged"
                if summary.skipped > 0 { text += ", \(summary.skipped) skipped" }
                if let first = summary.firstDay, let last = summary.lastDay { text += " (\(first) to \(last))" }
                Terminal.note(text)
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "show",
                abstract: "Weekly KPIs per rep or team, and the share of reps at or above quota.",
                discussion: """
                    A rep-week counts only when the rep has an activity row that week. win_rate = deals_won / \
                    (deals_won + deals_lost); avg_deal_size = revenue_won / deals_won; quota_attainment = \
                    revenue_won / the quota falling on the week (a quota spread evenly over its days). \
                    A ratio with a zero denominator is missing, not zero. The pipeline KPIs (from kpi import \
                    --opportunities and --leads) look at the 13 weeks to each week: opportunities_open, \
                    sales_cycle_days, win_rate_13w, avg_deal_size_13w, pipeline_velocity (open x win rate x \
                    deal size / cycle days, money per day) and lead_conversion; a team's is the mean of its \
                    reps' (opportunities_open: the sum).
                    """)
            @OptionGroup var global: GlobalOptions
            @Option(help: ArgumentHelp("First period (included).", valueName: "period")) var from: Period
            @Option(help: ArgumentHelp("Last period (included).", valueName: "period")) var to: Period
            @Option(help: "Rows per rep or per team.") var by: KPIGrouping = .team
            @Option(help: "Only this team.") var team: String?
            @OptionGroup var output: FormatOption

            enum KPIGrouping: String, ExpressibleByArgument, CaseIterable { case rep, team }

            func run() async throws {
                let db = try await global.openStore(config: try global.loadConfig())
                let range = try PeriodRange(from: from, to: to)
                let reps = Dictionary(uniqueKeysWithValues: try await db.reps(includeInactive: true, team: nil).map { ($0.id!, $0) })
                if let team, !reps.values.contains(where: { $0.team == team }) {
                    throw Closest.unknown("team", team, known: Set(reps.values.compactMap(\.team)).sorted(), listLabel: "the teams are")
                }
                var weekly = try await db.weeklyKPIs(from: range.start, to: range.end)
                if let team { weekly = weekly.filter { reps[$0.repID]?.team == team } }
                let quotas = try await db.quotas(from: range.start, to: range.end)
                var revenue: [Period: [Int64: Int]] = [:]
                for period in Set(quotas.map(\.period)) { revenue[period] = try await db.revenueCents(from: period.start, to: period.end) }
                let pipeline = try await db.pipelineWeeks(from: range.start, to: range.end,
                                                          reps: team.map { t in reps.values.filter { $0.team == t }.compactMap(\.id) })
                let report = KPIReport.compute(weekly: weekly, pipeline: pipeline, quotas: quotas, revenueByPeriod: revenue,
                                               range: range, byRep: by == .rep,
                                               label: { reps[$0]?.email ?? "#\($0)" },
                                               team: { reps[$0]?.team ?? GroupBy.noneLabel },
                                               include: { team == nil || reps[$0]?.team == team })
                switch output.format {
                case .json: Terminal.out(report.json.serialized() + "\n")
                case .csv: Terminal.out(report.csv)
                case .table: Terminal.out(report.table(style: Terminal.style))
                }
            }
        }
    }

    struct Correlate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "correlate",
            abstract: "Does morale move with a KPI? Pearson, Spearman and the within-rep correlation.",
            discussion: """
                Pairs each rep's morale in week t with the same rep's KPI in week t + lag. Pearson with its \
                Fisher-z 95% interval, Spearman (ties ranked by their average), and the repeated-measures \
                correlation within reps (Bakdash & Marusich, 2017), which compares each rep with themselves. \
                Needs an identified survey, at least 10 pairs, and 3 reps for the within-rep figure.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("The survey id.", valueName: "id"), completion: .surveyIDs) var survey: String
        @Option(help: ArgumentHelp("The KPI: \(KPI.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "kpi"))
        var kpi: KPI
        @OptionGroup var range: RangeOptions
        @Option(parsing: .unconditional,
                help: ArgumentHelp("Weeks between morale and the KPI (negative: the KPI comes first, as --lag -1).", valueName: "weeks"))
        var lag = 0
        @Option(help: "team for one result per team.") var by: CorrelateGrouping?
        @OptionGroup var output: FormatOption

        enum CorrelateGrouping: String, ExpressibleByArgument, CaseIterable { case team }

        func validate() throws {
            guard (-12...12).contains(lag) else { throw ValidationError("--lag \(lag): at most 12 weeks either way") }
        }

        func run() async throws {
            let config = try global.loadConfig()
            let db = try await global.openStore(config: config)
            try await requireSurvey(survey, in: db)
            let r = try await range.resolve(store: db, survey: survey)
            let anonymous = try global.loadSurveys()[survey]?.definition.anonymity == .anonymous
            let report = try await ReportQueries.correlation(db, survey: survey, anonymous: anonymous, kpi: kpi, lag: lag, range: r,
                                                             byTeam: by != nil, minGroupSize: config.anonymityThreshold)
            switch output.format {
            case .json: Terminal.out(report.json.serialized() + "\n")
            case .csv: Terminal.out(report.csv)
            case .table: Terminal.out(report.table(style: Terminal.style))
            }
        }
    }

    struct Drivers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "drivers",
            abstract: "Which scale questions go most with the eNPS answer: what to work on.",
            discussion: """
                Over the responses that answered both, each scale question's Pearson correlation with the \
                eNPS answer, its 95% interval and n, strongest first. Shown only from the anonymity \
                threshold's number of responses up.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("The survey id (it needs an eNPS question and scale questions); by default the latest "
                                   + "such survey with answers, as the shipped engagement survey.", valueName: "id"), completion: .surveyIDs)
        var survey: String?
        @OptionGroup var range: RangeOptions
        @OptionGroup var output: FormatOption

        func run() async throws {
            let config = try global.loadConfig()
            let db = try await global.openStore(config: config)
            let survey: String
            if let given = self.survey {
                survey = given
            } else {
                // The latest survey with answers that has both an eNPS question and scales.
                let files = (try? global.loadSurveys()) ?? [:]
                let candidates = try await db.rounds(survey: nil).reversed().map(\.surveyID).filter { id in
                    files[id].map { ReportQueries.unanalysable($0.definition) == nil } ?? false
                }
                guard let first = candidates.first else {
                    throw PulseError.usage("no survey with an eNPS question and scale questions has rounds yet: send one "
                        + "(the shipped engagement survey has both: pulse send engagement), or give --survey")
                }
                survey = first
            }
            try await requireSurvey(survey, in: db)
            let r = try await range.resolve(store: db, survey: survey)
            let report = try await ReportQueries.drivers(db, survey: survey, range: r, minGroupSize: config.anonymityThreshold)
            switch output.format {
            case .json: Terminal.out(report.json.serialized() + "\n")
            case .csv:
                Terminal.out(report.csv)
                if report.suppressed {
                    Terminal.note("not shown: fewer than \(report.minGroupSize) responses with an eNPS answer (the anonymity threshold)")
                }
            case .table: Terminal.out(report.table(style: Terminal.style))
            }
            try await noteAnonymousAnswersLeftOut(store: db, survey: survey, range: r, minGroupSize: config.anonymityThreshold)
        }
    }
}
