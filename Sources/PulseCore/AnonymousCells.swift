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
        guard groups.count >= threshold, threshold > 0 else { return nil }
        var level = [Level](repeating: .none, count: groups.count)
        var remaining = Array(groups.indices)
        // Atoms formed, finest first: (level, the answers).
        var atoms: [(level: Level, members: [Int])] = []
        for l in [Level.cell, .managerAndRegion, .region] {
            var byTags: [GroupKeys: [Int]] = [:]
            for i in remaining { byTags[l.project(groups[i]), default: []].append(i) }
            var left: [Int] = []
            for (_, members) in byTags.sorted(by: { $0.value.first! < $1.value.first! }) {
                if members.count >= threshold {
                    atoms.append((l, members))
                } else {
                    left += members
                }
            }
            remaining = left.sorted()
        }
        // The answers tagged with nothing form one atom too; if it is too small, the
        // smallest atoms (the coarsest among equals) give up their tags to it.
        var pool = remaining
        if !pool.isEmpty && pool.count < threshold {
            let order = atoms.indices.sorted { (atoms[$0].members.count, -atoms[$0].level.rawValue, $0)
                < (atoms[$1].members.count, -atoms[$1].level.rawValue, $1) }
            var dropped: Set<Int> = []
            for a in order where pool.count < threshold {
                pool += atoms[a].members
                dropped.insert(a)
            }
            atoms = atoms.indices.filter { !dropped.contains($0) }.map { atoms[$0] }
        }
        for atom in atoms { for i in atom.members { level[i] = atom.level } }
        return groups.indices.map { level[$0].project(groups[$0]) }
    }
}
