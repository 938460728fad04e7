/// Candidates in time order: a batch sorted once per segment, merged with a heap of the later ones (afterpulses
/// and photons emitted past the segment's end), which are few. Sorting a batch costs far less than a heap
/// operation per candidate.
struct CandidateQueue: Sendable {
    private var batch: [Candidate] = []
    private var position = 0
    private var future = CandidateHeap()

    private var draining = false

    /// Adds a candidate to this segment's batch (or, once the batch is being drained, to the later ones).
    mutating func push(_ candidate: Candidate) {
        if draining { future.push(candidate) } else { batch.append(candidate) }
    }

    /// Sorts the batch; from now on pushes go to the later ones.
    mutating func prepare() {
        batch.sort { $0.time < $1.time }
        position = 0
        draining = true
    }

    /// The earliest candidate before `end`; at the end of the segment, what remains of the batch joins the later
    /// ones and the next segment's batch starts empty.
    mutating func popFirst(before end: Double) -> Candidate? {
        let fromBatch = position < batch.count ? batch[position] : nil
        let fromFuture = future.peek()
        let next: Candidate?
        if let b = fromBatch, fromFuture.map({ b.time <= $0.time }) ?? true {
            next = b.time < end ? b : nil
            if next != nil { position += 1 }
        } else if let f = fromFuture, f.time < end {
            next = future.pop()
        } else {
            next = nil
        }
        if next == nil {
            for leftover in batch[position...] { future.push(leftover) }
            batch.removeAll(keepingCapacity: true)
            position = 0
            draining = false
        }
        return next
    }
}

/// A binary min-heap of candidates by time.
struct CandidateHeap: Sendable {
    private var items: [Candidate] = []

    func peek() -> Candidate? { items.first }

    mutating func push(_ candidate: Candidate) {
        items.append(candidate)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].time < items[parent].time else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Candidate? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < items.count && items[left].time < items[smallest].time { smallest = left }
                if right < items.count && items[right].time < items[smallest].time { smallest = right }
                guard smallest != parent else { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }
}
