internal import CQRNGAssessmentKernels
import QRNG

// bzip2's Huffman code lengths (BZ2_hbMakeCodeLengths), tie for tie.
extension Bzip2EntropyCoder {
    /// Huffman code lengths as `BZ2_hbMakeCodeLengths` builds them. The tree comes from bzip2's binary heap, whose
    /// tie-breaking decides between equally good trees, so the heap is reproduced operation for operation: a node's
    /// weight carries its frequency (at least 1) above 8 bits and its depth below, so equal frequencies favour the
    /// shallower node. When a length exceeds `maximumLength` every count is halved (c → 1 + c/2) and the tree rebuilt.
    static func makeCodeLengths(
        _ lengths: UnsafeMutablePointer<UInt8>, frequencies: UnsafePointer<Int32>, alphabetSize: Int,
        maximumLength: Int
    ) {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 2 * 260 + 2 * 520) { storage in
            let heap = storage.baseAddress!
            let weight = heap + 260
            let parent = weight + 520
            for symbol in 0..<alphabetSize {
                weight[symbol + 1] = max(frequencies[symbol], 1) << 8
            }
            while true {
                var nodeCount = alphabetSize
                var heapCount = 0
                heap[0] = 0
                weight[0] = 0
                parent[0] = -2

                @inline(__always) func siftUp(_ start: Int) {
                    var slot = start
                    let node = heap[slot]
                    while weight[Int(node)] < weight[Int(heap[slot >> 1])] {
                        heap[slot] = heap[slot >> 1]
                        slot >>= 1
                    }
                    heap[slot] = node
                }
                @inline(__always) func siftDown(_ start: Int) {
                    var slot = start
                    let node = heap[slot]
                    while true {
                        var child = slot << 1
                        if child > heapCount { break }
                        if child < heapCount && weight[Int(heap[child + 1])] < weight[Int(heap[child])] { child += 1 }
                        if weight[Int(node)] < weight[Int(heap[child])] { break }
                        heap[slot] = heap[child]
                        slot = child
                    }
                    heap[slot] = node
                }

                for symbol in 1...alphabetSize {
                    parent[symbol] = -1
                    heapCount += 1
                    heap[heapCount] = Int32(symbol)
                    siftUp(heapCount)
                }
                while heapCount > 1 {
                    let first = Int(heap[1])
                    heap[1] = heap[heapCount]
                    heapCount -= 1
                    siftDown(1)
                    let second = Int(heap[1])
                    heap[1] = heap[heapCount]
                    heapCount -= 1
                    siftDown(1)
                    nodeCount += 1
                    parent[first] = Int32(nodeCount)
                    parent[second] = Int32(nodeCount)
                    let depth = 1 + max(weight[first] & 0xff, weight[second] & 0xff)
                    weight[nodeCount] = ((weight[first] & ~0xff) + (weight[second] & ~0xff)) | depth
                    parent[nodeCount] = -1
                    heapCount += 1
                    heap[heapCount] = Int32(nodeCount)
                    siftUp(heapCount)
                }

                var tooLong = false
                for symbol in 1...alphabetSize {
                    var depth = 0
                    var node = symbol
                    while parent[node] >= 0 {
                        node = Int(parent[node])
                        depth += 1
                    }
                    lengths[symbol - 1] = UInt8(truncatingIfNeeded: depth)
                    if depth > maximumLength { tooLong = true }
                }
                if !tooLong { return }
                for symbol in 1...alphabetSize {
                    weight[symbol] = (1 + (weight[symbol] >> 8) / 2) << 8
                }
            }
        }
    }
}
