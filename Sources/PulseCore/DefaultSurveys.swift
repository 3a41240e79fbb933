// Stand-in until the translated definitions land.
public enum DefaultSurveys {
    public static let files: [(name: String, yaml: String)] = [("weekly-pulse.yaml", weeklyPulse), ("enps.yaml", enps)]
    public static let weeklyPulse = #"""
    id: weekly-pulse
    title: Weekly pulse
    anonymity: identified
    schedule: {every: week, on: monday, at: "09:00", close_after_days: 5}
    questions:
      - {id: energy, type: scale, text: Energy, min: 1, max: 5}
      - {id: workload, type: scale, text: Workload, min: 1, max: 5}
      - {id: support, type: scale, text: Support, min: 1, max: 5}
      - {id: quota_confidence, type: scale, text: Quota, min: 1, max: 5}
      - {id: comment, type: text, text: Comment, optional: true}

    """#
    public static let enps = #"""
    id: enps
    title: eNPS
    anonymity: anonymous
    schedule: {every: quarter, on: monday, at: "09:00", close_after_days: 14}
    questions:
      - {id: enps, type: enps, text: Recommend?}
      - {id: reason, type: text, text: Why?, optional: true}

    """#
}
