import Testing
@testable import PulseCore

/// The tags anonymous answers keep within a batch: every stored tag tuple has at least
/// the threshold's answers, each answer keeps a projection of its own groups, and as
/// much as that allows.
@Suite struct AnonymousCellsTests {
    typealias K = GroupKeys

    @Test func aBatchUnderTheThresholdIsNotKept() {
        #expect(AnonymousCells.tags([K(team: "a"), K(team: "a")], threshold: 3) == nil)
        #expect(AnonymousCells.tags([], threshold: 3) == nil)
    }

    @Test func cellsAtTheThresholdKeepEverything() {
        let groups = Array(repeating: K(team: "a", managerEmail: "m", region: "EU"), count: 3)
            + Array(repeating: K(team: "b", managerEmail: "n", region: "EU"), count: 4)
        #expect(AnonymousCells.tags(groups, threshold: 3) == groups)
    }

    /// Two teams of one manager, too small alone, keep the manager and the region.
    @Test func smallCellsKeepWhatTheirNeighboursShare() throws {
        let groups = [K(team: "a", managerEmail: "m", region: "EU"), K(team: "a", managerEmail: "m", region: "EU"),
                      K(team: "b", managerEmail: "m", region: "EU"), K(team: "b", managerEmail: "m", region: "EU"),
                      K(team: "c", managerEmail: "n", region: "EU"),
                      K(team: "d", managerEmail: "o", region: "APAC"), K(team: "d", managerEmail: "o", region: "APAC"),
                      K(team: "d", managerEmail: "o", region: "APAC")]
        let tags = try #require(AnonymousCells.tags(groups, threshold: 3))
        #expect(Array(tags[0..<4]) == Array(repeating: K(managerEmail: "m", region: "EU"), count: 4))
        // c alone keeps nothing, and is too few alone: the smallest atom, d's three, gives up
        // its tags to make the untagged group four.
        #expect(Array(tags[4..<8]) == Array(repeating: K(), count: 4))
        #expect(Self.smallest(tags) >= 3, "\(tags)")
    }

    /// Random batches: every stored tuple has at least the threshold's answers; each tag
    /// is the answer's own group, projected.
    @Test func everyStoredGroupHasTheThreshold() {
        var rng = SeededRandom(seed: 11)
        for trial in 0..<3000 {
            let threshold = 3 + Int(rng.next() % 4)
            let count = Int(rng.next() % 40)
            let groups = (0..<count).map { _ in
                K(team: ["a", "b", "c", "d", "e", nil][Int(rng.next() % 6)], managerEmail: ["m", "n", nil][Int(rng.next() % 3)],
                  region: ["EU", "APAC"][Int(rng.next() % 2)])
            }
            guard let tags = AnonymousCells.tags(groups, threshold: threshold) else {
                #expect(count < threshold, "trial \(trial)")
                continue
            }
            #expect(tags.count == count)
            #expect(Self.smallest(tags) >= threshold, "trial \(trial): \(groups) → \(tags)")
            for (g, t) in zip(groups, tags) {
                #expect(AnonymousCells.Level.allCases.contains { $0.project(g) == t }, "trial \(trial): \(g) → \(t)")
            }
        }
    }

    static func smallest(_ tags: [K]) -> Int { Dictionary(grouping: tags, by: { $0 }).values.map(\.count).min() ?? .max }
}
