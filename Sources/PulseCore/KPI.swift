/// The weekly KPIs of the contract.
public enum KPI: String, Sendable, CaseIterable, Codable {
    case calls, emails, meetings, activity
    case opportunitiesCreated = "opportunities_created"
    case dealsWon = "deals_won"
    case revenueWon = "revenue_won"
    case winRate = "win_rate"
    case avgDealSize = "avg_deal_size"
    case quotaAttainment = "quota_attainment"
    // The pipeline KPIs, over the trailing quarter (`PipelineWeek`).
    case opportunitiesOpen = "opportunities_open"
    case salesCycleDays = "sales_cycle_days"
    case winRate13w = "win_rate_13w"
    case avgDealSize13w = "avg_deal_size_13w"
    case pipelineVelocity = "pipeline_velocity"
    case leadConversion = "lead_conversion"

    /// Whether it comes from opportunities and leads rather than daily activity.
    public var isPipeline: Bool {
        switch self {
        case .opportunitiesOpen, .salesCycleDays, .winRate13w, .avgDealSize13w, .pipelineVelocity, .leadConversion: true
        default: false
        }
    }

    /// For a KPI that is one sum of the rollup of activity (`activity_week`), the SQL
    /// expression over its columns, the same on SQLite and PostgreSQL, that gives what
    /// `WeeklyKPIs.value(_:)` gives (NULL where that is `nil`), and whether it is in cents.
    public var rollupSum: (sql: String, cents: Bool)? {
        switch self {
        case .calls: ("calls", false)
        case .emails: ("emails", false)
        case .meetings: ("meetings", false)
        case .activity:
            ("CASE WHEN calls IS NULL AND emails IS NULL AND meetings IS NULL THEN NULL "
                + "ELSE COALESCE(calls, 0) + COALESCE(emails, 0) + COALESCE(meetings, 0) END", false)
        case .opportunitiesCreated: ("opportunities_created", false)
        case .dealsWon: ("deals_won", false)
        case .revenueWon: ("revenue_won_cents", true)
        case .winRate, .avgDealSize, .quotaAttainment, .opportunitiesOpen, .salesCycleDays, .winRate13w, .avgDealSize13w,
             .pipelineVelocity, .leadConversion: nil
        }
    }

    /// How a person reads it.
    public var label: String {
        switch self {
        case .calls: "calls"
        case .emails: "emails"
        case .meetings: "meetings"
        case .activity: "activity (calls + emails + meetings)"
        case .opportunitiesCreated: "opportunities created"
        case .dealsWon: "deals won"
        case .revenueWon: "revenue won"
        case .winRate: "win rate"
        case .avgDealSize: "average deal size"
        case .quotaAttainment: "quota attainment"
        case .opportunitiesOpen: "open opportunities"
        case .salesCycleDays: "sales cycle (days, trailing quarter)"
        case .winRate13w: "win rate (trailing quarter)"
        case .avgDealSize13w: "average deal size (trailing quarter)"
        case .pipelineVelocity: "pipeline velocity (money per day)"
        case .leadConversion: "lead conversion (trailing quarter)"
        }
    }
}

/// One day of one rep's activity as imported. `nil` is a cell left empty: missing, not zero.
public struct ActivityDay: Sendable, Equatable {
    public var repID: Int64
    public var day: Day
    public var calls: Int?
    public var emails: Int?
    public var meetings: Int?
    public var opportunitiesCreated: Int?
    public var dealsWon: Int?
    public var dealsLost: Int?
    public var revenueWonCents: Int?
    public var pipelineValueCents: Int?

    public init(repID: Int64, day: Day, calls: Int? = nil, emails: Int? = nil, meetings: Int? = nil,
                opportunitiesCreated: Int? = nil, dealsWon: Int? = nil, dealsLost: Int? = nil,
                revenueWonCents: Int? = nil, pipelineValueCents: Int? = nil) {
        self.repID = repID; self.day = day; self.calls = calls; self.emails = emails; self.meetings = meetings
        self.opportunitiesCreated = opportunitiesCreated; self.dealsWon = dealsWon; self.dealsLost = dealsLost
        self.revenueWonCents = revenueWonCents; self.pipelineValueCents = pipelineValueCents
    }
}

/// A quota for one rep and one month or quarter.
public struct Quota: Sendable, Equatable {
    public var repID: Int64
    public var period: Period
    public var cents: Int
    public init(repID: Int64, period: Period, cents: Int) { self.repID = repID; self.period = period; self.cents = cents }

    /// The part of the quota that falls on one day: spread evenly over the period's days.
    public var centsPerDay: Double { Double(cents) / Double(period.dayCount) }
}

/// One rep's KPIs for one ISO week (the contract's definitions).
public struct WeeklyKPIs: Sendable, Equatable {
    public var repID: Int64
    public var week: Period
    public var calls: Int?
    public var emails: Int?
    public var meetings: Int?
    public var opportunitiesCreated: Int?
    public var dealsWon: Int?
    public var dealsLost: Int?
    public var revenueWonCents: Int?
    /// The quota that falls on the week's seven days, where a quota covers them.
    public var quotaCents: Double?

    /// A sum over the days with a value; `nil` when no day has one.
    static func sum(_ values: [Int?]) -> Int? {
        var total: Int?
        for v in values { if let v { total = (total ?? 0) + v } }
        return total
    }

    public var activity: Int? {
        guard calls != nil || emails != nil || meetings != nil else { return nil }
        return (calls ?? 0) + (emails ?? 0) + (meetings ?? 0)
    }

    public var winRate: Double? {
        guard let w = dealsWon else { return nil }
        let decided = w + (dealsLost ?? 0)
        return decided > 0 ? Double(w) / Double(decided) : nil
    }

    public var avgDealSize: Double? {
        guard let w = dealsWon, w > 0, let r = revenueWonCents else { return nil }
        return Double(r) / 100 / Double(w)
    }

    public var quotaAttainment: Double? {
        guard let q = quotaCents, q > 0, let r = revenueWonCents else { return nil }
        return Double(r) / q
    }

    public func value(_ kpi: KPI) -> Double? {
        switch kpi {
        case .calls: calls.map(Double.init)
        case .emails: emails.map(Double.init)
        case .meetings: meetings.map(Double.init)
        case .activity: activity.map(Double.init)
        case .opportunitiesCreated: opportunitiesCreated.map(Double.init)
        case .dealsWon: dealsWon.map(Double.init)
        case .revenueWon: revenueWonCents.map { Double($0) / 100 }
        case .winRate: winRate
        case .avgDealSize: avgDealSize
        case .quotaAttainment: quotaAttainment
        case .opportunitiesOpen, .salesCycleDays, .winRate13w, .avgDealSize13w, .pipelineVelocity, .leadConversion: nil
        }
    }

    /// Sums days into rep-weeks. A rep-week exists only where the rep has at least one
    /// activity row that week.
    public static func compute(days: [ActivityDay], quotas: [Quota]) -> [WeeklyKPIs] {
        var summer = WeeklySummer(quotas: quotas)
        var out: [WeeklyKPIs] = []
        for d in days.sorted(by: { ($0.repID, $0.day) < ($1.repID, $1.day) }) {
            if let k = summer.add(d) { out.append(k) }
        }
        if let k = summer.finish() { out.append(k) }
        return out
    }

    /// The quota falling on the days from `start` to `end`; `nil` when no quota covers any of them.
    public static func quotaOverlap(_ quotas: [Quota], from start: Day, to end: Day) -> Double? {
        var total: Double?
        for q in quotas {
            let lo = max(start, q.period.start), hi = min(end, q.period.end)
            guard lo <= hi else { continue }
            total = (total ?? 0) + q.centsPerDay * Double(hi - lo + 1)
        }
        return total
    }
}

extension WeeklyKPIs {
    public init(repID: Int64, week: Period) {
        self.repID = repID; self.week = week
    }
}

/// Sums activity days, given in rep and day order (the activity table's key order),
/// into rep-weeks: each rep-week is handed back as soon as a day of another begins, so
/// a scan of millions of days holds one rep-week at a time.
public struct WeeklySummer {
    private var quotasByRep: [Int64: [Quota]] = [:]
    private var current: WeeklyKPIs?
    private var weekOfMonday: [Int: Period] = [:]

    public init(quotas: [Quota]) {
        for q in quotas { quotasByRep[q.repID, default: []].append(q) }
    }

    /// Adds a day; the rep-week it closed, when it starts another.
    public mutating func add(_ d: ActivityDay) -> WeeklyKPIs? {
        let monday = d.day.ordinal - (d.day.weekday - 1)
        var closed: WeeklyKPIs?
        if current?.repID != d.repID || current?.week.start.ordinal != monday {
            closed = finish()
            let week: Period
            if let known = weekOfMonday[monday] { week = known } else {
                week = Period.week(of: d.day)
                weekOfMonday[monday] = week
            }
            current = WeeklyKPIs(repID: d.repID, week: week)
        }
        func add(_ total: inout Int?, _ value: Int?) { if let value { total = (total ?? 0) + value } }
        add(&current!.calls, d.calls)
        add(&current!.emails, d.emails)
        add(&current!.meetings, d.meetings)
        add(&current!.opportunitiesCreated, d.opportunitiesCreated)
        add(&current!.dealsWon, d.dealsWon)
        add(&current!.dealsLost, d.dealsLost)
        add(&current!.revenueWonCents, d.revenueWonCents)
        return closed
    }

    /// The last rep-week, with the quota falling on it.
    public mutating func finish() -> WeeklyKPIs? {
        guard var k = current else { return nil }
        current = nil
        k.quotaCents = WeeklyKPIs.quotaOverlap(quotasByRep[k.repID] ?? [], from: k.week.start, to: k.week.end)
        return k
    }
}
