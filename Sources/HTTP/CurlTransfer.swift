import CCurl

/// One transfer in flight. Lives on the multi loop's thread only.
final class CurlTransfer {
    let id: UInt64
    let easy: UnsafeMutableRawPointer
    let continuation: CheckedContinuation<HTTPExchange, Never>
    let maxResponseBytes: Int
    let secrets: [String]
    var body: [UInt8] = []
    var headers: [HTTPHeader] = []
    var truncated = false
    var arrivals: [HTTPResponse.BodyArrival] = []
    /// When the transfer was set up, just before it joins the multi handle.
    private let created = ContinuousClock.now
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    init(
        id: UInt64, easy: UnsafeMutableRawPointer, request: HTTPRequest, caBundle: String?,
        continuation: CheckedContinuation<HTTPExchange, Never>
    ) {
        self.id = id
        self.easy = easy
        self.continuation = continuation
        self.maxResponseBytes = request.maxResponseBytes
        self.secrets = request.headers.filter { Redaction.isSensitive(header: $0.name) }.map(\.value)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        configure(request, caBundle: caBundle)
    }

    deinit {
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    private func configure(_ request: HTTPRequest, caBundle: String?) {
        let me = Unmanaged.passUnretained(self).toOpaque()
        fa_easy_setopt_string(easy, CURLOPT_URL, request.url)
        fa_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https")
        fa_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        fa_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, max(1, Int(request.timeout / .milliseconds(1))))
        fa_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1)
        fa_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2)
        if let caBundle { fa_easy_setopt_string(easy, CURLOPT_CAINFO, caBundle) }
        fa_easy_setopt_long(easy, CURLOPT_FRESH_CONNECT, request.freshConnection ? 1 : 0)
        fa_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer)
        fa_easy_setopt_pointer(easy, CURLOPT_PRIVATE, me)
        fa_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, me)
        fa_easy_setopt_write_callback(easy, CURLOPT_WRITEFUNCTION, curlBodyCallback)
        fa_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, me)
        fa_easy_setopt_write_callback(easy, CURLOPT_HEADERFUNCTION, curlHeaderCallback)

        switch request.method.uppercased() {
        case "GET" where request.body == nil: fa_easy_setopt_long(easy, CURLOPT_HTTPGET, 1)
        case "HEAD": fa_easy_setopt_long(easy, CURLOPT_NOBODY, 1)
        case let method: fa_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method)
        }
        if let body = request.body {
            fa_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, body.count)
            if body.isEmpty {
                fa_easy_setopt_string(easy, CURLOPT_COPYPOSTFIELDS, "")
            } else {
                body.withUnsafeBytes {
                    _ = fa_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress))
                }
            }
        }
        var lines = request.headers.map { "\($0.name): \($0.value)" }
        lines.append("Expect:")  // no 100-continue round trip
        for line in lines { headerList = curl_slist_append(headerList, line) }
        fa_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList)
    }

    /// The exchange this transfer came to, once libcurl reports it done with `code`.
    func exchange(code: CURLcode) -> HTTPExchange {
        let timings = readTimings()
        if code == CURLE_OK || (code == CURLE_WRITE_ERROR && truncated) {
            var status = 0
            fa_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
            return HTTPExchange(
                result: .success(HTTPResponse(status: status, headers: headers, body: body, truncated: truncated, arrivals: arrivals)),
                timings: timings)
        }
        let detail = String(cString: errorBuffer)
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        let failure = TransferFailure(
            kind: .init(curlCode: code), curlError: curlErrorName(code), message: Redaction.scrub(message, secrets: secrets))
        return HTTPExchange(result: .failure(failure), timings: timings)
    }

    private func readTimings() -> HTTPTimings {
        func micros(_ info: CURLINFO) -> Double {
            var value: curl_off_t = 0
            fa_easy_getinfo_off(easy, info, &value)
            return Double(value) / 1000
        }
        let dns = micros(CURLINFO_NAMELOOKUP_TIME_T)
        let connect = micros(CURLINFO_CONNECT_TIME_T)
        let tls = micros(CURLINFO_APPCONNECT_TIME_T)
        return HTTPTimings(
            dns: dns, connect: max(0, connect - dns), tls: tls > 0 ? max(0, tls - connect) : 0,
            firstByte: micros(CURLINFO_STARTTRANSFER_TIME_T), total: micros(CURLINFO_TOTAL_TIME_T))
    }

    fileprivate func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if arrivals.count < 256 {
            // libcurl's own clock is updated only now and then during a transfer: time it here.
            arrivals.append(HTTPResponse.BodyArrival(offset: body.count, ms: (ContinuousClock.now - created) / .milliseconds(1)))
        }
        guard body.count + bytes.count <= maxResponseBytes else {
            body.append(contentsOf: bytes.prefix(maxResponseBytes - body.count))
            truncated = true
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }

    fileprivate func headerLine(_ bytes: UnsafeRawBufferPointer) {
        let line = String(decoding: bytes, as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            headers.removeAll()  // a new response (after 1xx): only the final one counts
        } else if let colon = line.firstIndex(of: ":") {
            let value = line[line.index(after: colon)...].trimmed(" \t\r\n")
            headers.append(HTTPHeader(String(line[..<colon]), value))
        }
    }
}

private func curlBodyCallback(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ owner: UnsafeMutableRawPointer?) -> Int {
    guard let owner else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(owner).takeUnretainedValue()
    let length = size * count
    return transfer.append(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}

private func curlHeaderCallback(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ owner: UnsafeMutableRawPointer?) -> Int {
    guard let owner else { return 0 }
    Unmanaged<CurlTransfer>.fromOpaque(owner).takeUnretainedValue().headerLine(UnsafeRawBufferPointer(start: data, count: size * count))
    return size * count
}

extension StringProtocol {
    func trimmed(_ set: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice.removeFirst() }
        while let last = slice.last, set.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
