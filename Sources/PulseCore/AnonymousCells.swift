/// The groups an anonymous answer is stored under, chosen so that every figure Pulse can
/// show is a sum over groups of at least the threshold.
///
/// Answers are written to the database in batches (an import, or a batch of web answers),
/// and the operator knows which reps each batch holds. Within a batch, answers are
/// tagged with the rep's team, manager and region only where at least `threshold`
/// answers of the batch share those tags; the others are tagged with less (manager and
/// region, then region, then nothing) as far as that keeps each group at the threshold.
/// Every tag tuple on stored answers then belongs to at least `threshold` answers of one
/// batch (an "atom"), and every breakdown (team, manager, region, all) and every range
/// of rounds is a union of atoms: no difference of figures isolates fewer answers.
public enum AnonymousCells {
    /// How much of a rep's groups an answer keeps.
    public enum Level: Int, Sendable, CaseIterable, Comparable {
        case cell = 0, managerAndRegion, region, none

        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }

        func project(_ k: GroupKeys) -> GroupKeys {
            switch self {
            case .cell: k
            case .managerAndRegion: GroupKeys(team: nil, managerEmail: k.managerEmail, region: k.region)
            case .region: GroupKeys(team: nil, managerEmail: nil, region: k.region)
            case .none: GroupKeys()
            }
        }
    }

    /// The tags each answer of one batch is stored with (in the order given), or `nil`
    /// when the batch has fewer than `threshold` answers, which are then not kept.
    public static func tags(_ groups: [GroupKeys], threshold: Int) -> [GroupKeys]? {
        var counts: [GroupKeys: Int] = [:]
        for g in groups { counts[g, default: 0] += 1 }
        guard let tags = tags(counts: counts, threshold: threshold) else { return nil }
        return groups.map { tags[$0]! }
    }

    /// The same for answers counted by their groups: what the answers of each group are
    /// tagged with (all answers of one group alike), or `nil` under `threshold` answers.
    ///
    /// Reports apply it again to each round's stored tags, which changes nothing for tags
    /// written by it (every stored tuple is an atom already) and keeps every figure on
    /// atoms of at least the threshold for answers written before it, or under a
    /// threshold raised since.
    public static func tags(counts: [GroupKeys: Int], threshold: Int) -> [GroupKeys: GroupKeys]? {
        guard threshold > 0, counts.values.reduce(0, +) >= threshold else { return nil }
        var level: [GroupKeys: Level] = [:]
        var remaining = counts.keys.sorted(by: Self.precedes)
        // Atoms formed, finest first: (level, the groups in it, its answers).
        var atoms: [(level: Level, members: [GroupKeys], size: Int)] = []
        for l in [Level.cell, .managerAndRegion, .region] {
            var byTags: [GroupKeys: [GroupKeys]] = [:]
            for k in remaining { byTags[l.project(k), default: []].append(k) }
            var left: [GroupKeys] = []
            for tag in byTags.keys.sorted(by: Self.precedes) {
                let members = byTags[tag]!
                let size = members.reduce(0) { $0 + counts[$1]! }
                if size >= threshold { atoms.append((l, members, size)) } else { left += members }
            }
            remaining = left.sorted(by: Self.precedes)
        }
        // The answers tagged with nothing form one atom too; if it is too small, the
        // smallest atoms (the coarsest among equals) give up their tags to it.
        var pool = remaining.reduce(0) { $0 + counts[$1]! }
        if pool > 0 && pool < threshold {
            let order = atoms.indices.sorted { (atoms[$0].size, -atoms[$0].level.rawValue, $0)
                < (atoms[$1].size, -atoms[$1].level.rawValue, $1) }
            var dropped: Set<Int> = []
            for a in order where pool < threshold {
                pool += atoms[a].size
                dropped.insert(a)
            }
            atoms = atoms.indices.filter { !dropped.contains($0) }.map { atoms[$0] }
        }
        for atom in atoms { for k in atom.members { level[k] = atom.level } }
        var out: [GroupKeys: GroupKeys] = [:]
        for k in counts.keys { out[k] = (level[k] ?? .none).project(k) }
        return out
    }

    /// A fixed order of groups (nil before any text), so that ties fall the same way every time.
    static func precedes(_ a: GroupKeys, _ b: GroupKeys) -> Bool {
        func parts(_ k: GroupKeys) -> [String] { [k.team, k.managerEmail, k.region].map { $0.map { "1" + $0 } ?? "0" } }
        return parts(a).lexicographicallyPrecedes(parts(b))
    }
}
