import Foundation

/// Where an opportunity stands, read from a CRM's stage: `won` and `lost` (and
/// `Closed Won`, `Closed Lost`, HubSpot's `closedwon`, `closedlost`), any other stage open.
public enum OpportunityStatus: String, Sendable, Codable {
    case open, won, lost

    /// The status a CRM stage means (case and spaces aside); `nil` for an empty cell.
    public init?(stage: String) {
        let s = stage.trimmingSpaces.lowercased().split(whereSeparator: { $0 == " " || $0 == "_" || $0 == "-" }).joined(separator: " ")
        guard !s.isEmpty else { return nil }
        switch s {
        // HubSpot's own stage names too (`closedwon`, `closedlost`).
        case "won", "closed won", "closedwon": self = .won
        case "lost", "closed lost", "closedlost": self = .lost
        default: self = .open
        }
    }
}

/// An opportunity as imported: its owner, when it was created and closed, how it ended,
/// and its amount. An open opportunity has no close date (a CRM's expected one is not kept).
public struct Opportunity: Sendable, Equatable, Identifiable {
    public var id: String
    public var repID: Int64
    public var created: Day
    public var closed: Day?
    public var status: OpportunityStatus
    public var amountCents: Int?

    public init(id: String, repID: Int64, created: Day, closed: Day?, status: OpportunityStatus, amountCents: Int?) {
        self.id = id; self.repID = repID; self.created = created; self.closed = status == .open ? nil : closed
        self.status = status; self.amountCents = amountCents
    }
}

/// A lead as imported: its owner, when it came in, and when it converted (if it did).
public struct Lead: Sendable, Equatable, Identifiable {
    public var id: String
    public var repID: Int64
    public var created: Day
    public var converted: Day?

    public init(id: String, repID: Int64, created: Day, converted: Day?) {
        self.id = id; self.repID = repID; self.created = created; self.converted = converted
    }
}

/// One rep's pipeline KPIs for one ISO week w, over the trailing quarter (the 13 ISO
/// weeks ending with w): the contract's definitions. A value whose inputs are missing is
/// `nil`, never 0.
public struct PipelineWeek: Sendable, Equatable {
    /// Opportunities created on or before w's Sunday and not closed by then.
    public var opportunitiesOpen: Int?
    /// The mean of (closed − created) in days over the opportunities won in the quarter.
    public var salesCycleDays: Double?
    /// won / (won + lost) over the opportunities closed in the quarter.
    public var winRate13w: Double?
    /// The mean amount (in money, not cents) of the opportunities won in the quarter
    /// that carry one.
    public var avgDealSize13w: Double?
    /// Of the leads created in the quarter, the share converted on or before w's Sunday.
    public var leadConversion: Double?

    public init() {}

    /// opportunities_open × win_rate_13w × avg_deal_size_13w / sales_cycle_days, in money per day.
    public var pipelineVelocity: Double? {
        guard let open = opportunitiesOpen, let rate = winRate13w, let size = avgDealSize13w,
              let cycle = salesCycleDays, cycle > 0 else { return nil }
        return Double(open) * rate * size / cycle
    }

    /// One of the pipeline KPIs; `nil` for the activity ones.
    public func value(_ kpi: KPI) -> Double? {
        switch kpi {
        case .opportunitiesOpen: opportunitiesOpen.map(Double.init)
        case .salesCycleDays: salesCycleDays
        case .winRate13w: winRate13w
        case .avgDealSize13w: avgDealSize13w
        case .pipelineVelocity: pipelineVelocity
        case .leadConversion: leadConversion
        default: nil
        }
    }

    public var isEmpty: Bool {
        opportunitiesOpen == nil && salesCycleDays == nil && winRate13w == nil && avgDealSize13w == nil && leadConversion == nil
    }

    /// The days of the trailing quarter of a week: from the Monday twelve weeks before it
    /// to its Sunday.
    public static func quarter(ending week: Period) -> ClosedRange<Day> { (week.end - 90)...week.end }

    /// Each rep's pipeline KPIs for each of `weeks`; a rep-week is there only where one
    /// of its values exists. `opportunities_open` exists for a rep from the week of their
    /// first opportunity on (0 once every one has closed).
    public static func compute(opportunities: [Opportunity], leads: [Lead], weeks: [Period]) -> [Int64: [Period: PipelineWeek]] {
        var oppsByRep: [Int64: [Opportunity]] = [:]
        for o in opportunities { oppsByRep[o.repID, default: []].append(o) }
        var leadsByRep: [Int64: [Lead]] = [:]
        for l in leads { leadsByRep[l.repID, default: []].append(l) }
        var out: [Int64: [Period: PipelineWeek]] = [:]
        for rep in Set(oppsByRep.keys).union(leadsByRep.keys) {
            let opps = oppsByRep[rep] ?? [], repLeads = leadsByRep[rep] ?? []
            for week in weeks {
                let k = Self.week(week, opportunities: opps, leads: repLeads)
                if !k.isEmpty { out[rep, default: [:]][week] = k }
            }
        }
        return out
    }

    /// One rep's week, from that rep's opportunities and leads.
    public static func week(_ week: Period, opportunities: [Opportunity], leads: [Lead]) -> PipelineWeek {
        let sunday = week.end, quarter = Self.quarter(ending: week)
        var k = PipelineWeek()
        var open = 0, any = false
        var won = 0, lost = 0, cycleDays = 0, amounts = 0, amountCents = 0
        for o in opportunities {
            if o.created <= sunday {
                any = true
                if o.closed.map({ $0 > sunday }) ?? true { open += 1 }
            }
            guard let closed = o.closed, quarter.contains(closed) else { continue }
            switch o.status {
            case .won:
                won += 1
                cycleDays += closed - o.created
                if let a = o.amountCents { amounts += 1; amountCents += a }
            case .lost: lost += 1
            case .open: break
            }
        }
        if any { k.opportunitiesOpen = open }
        if won > 0 { k.salesCycleDays = Double(cycleDays) / Double(won) }
        if won + lost > 0 { k.winRate13w = Double(won) / Double(won + lost) }
        if amounts > 0 { k.avgDealSize13w = Double(amountCents) / 100 / Double(amounts) }
        var came = 0, converted = 0
        for l in leads where quarter.contains(l.created) {
            came += 1
            if let c = l.converted, c <= sunday { converted += 1 }
        }
        if came > 0 { k.leadConversion = Double(converted) / Double(came) }
        return k
    }
}
