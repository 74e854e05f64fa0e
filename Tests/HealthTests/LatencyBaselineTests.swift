import Health
import Testing

/// The baseline keeps its samples in order as they come and go: its p90 is the p90 of the last
/// `capacity` samples, as sorting them afresh gives it.
@Suite struct LatencyBaselineTests {
    @Test(arguments: [1, 5, 20, 100])
    func theP90IsThatOfTheLastSamples(capacity: Int) {
        var baseline = LatencyBaseline(capacity: capacity)
        #expect(baseline.p90() == nil)
        var seen: [Double] = []
        for index in 0..<(capacity * 7 + 3) {
            // Scattered whole milliseconds, rising and falling, some equal.
            let sample = Double(index * 7919 % 37 * 10 + 100)
            baseline.add(sample)
            seen.append(sample)
            let window = seen.suffix(capacity).sorted()
            let expected = window[min(window.count - 1, Int((Double(window.count) * 0.9).rounded(.up)) - 1)]
            #expect(baseline.p90() == expected)
            #expect(baseline.count == window.count)
        }
    }

}
