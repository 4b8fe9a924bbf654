/** `--help`: every option of args.ts's OPTION_SPEC (test/cli/docs.test.ts checks it), the exit codes of errors.ts's EXIT. */
export const USAGE = `Usage:
  multipart-poster [options] URL        upload a multipart form (or a raw file with --data-binary or -T)
  multipart-poster -F ... --dry-run     write the encoded body instead of sending it
  multipart-poster serve [options]      run a receiver that reports what it gets
  multipart-poster decode [FILE|-|URL]  split a multipart body into its parts (decode --help)

Sending:
  -F, --form SPEC          a part (repeatable): name=value, name=@file[;type=T][;filename=F],
                           name=@a,b (several files, as a nested multipart/mixed), or name=<file
                           (the file's content as a text field, at most 16 MiB); ;headers='N: V'
                           or ;headers=@FILE adds part headers
      --form-string N=V    a text part whose value is taken as it is (no @, < or ;type=)
      --data-binary @FILE  send FILE itself as the body, not multipart (@- reads standard input)
  -T, --upload-file FILE   PUT FILE itself as the body (a presigned URL); - reads standard input
  -X, --request METHOD     POST (default), PUT, PATCH...
  -H, --header 'N: V'      an extra header (repeatable); 'Expect:' turns Expect off;
                           'Content-Type: T' types a --data-binary body; with -F, multipart/SUBTYPE
                           (related, mixed...) with its parameters picks the body's subtype
      --boundary B         use this multipart boundary
  -L, --location           follow redirects (307/308 re-send the body)
      --max-redirs N       at most N redirects with -L (default 5; -1: no limit, as in curl)
      --expect-continue    always send Expect: 100-continue
      --no-expect-continue
                           never send it (default: for bodies over 1 MiB)
      --timeout SECONDS    give up after this long (fractions allowed, at most 2147483)
      --retry N            retry a transient failure up to N times (a timeout to connect, an
                           unresolved host, HTTP 408 429 500 502 503 504), as curl does;
                           Retry-After is honoured (up to 60 s)
      --retry-delay SECS   wait this long between retries (default: 1 s, doubling; 0: default)
      --retry-max-time SECS
                           start no retry after this long (default 0: no limit)
      --retry-all-errors   with --retry: retry any failure of the connection, and with -f any
                           status of 400 or more
      --retry-connrefused  with --retry: retry a refused connection too
  -x, --proxy URL          send through this HTTP proxy (http://host:port; https URLs go
                           through CONNECT); "" for none. Without it, http_proxy, https_proxy
                           (or HTTP_PROXY, HTTPS_PROXY, ALL_PROXY) are used, except for the
                           hosts in NO_PROXY, which also applies to -x; chosen again for each
                           redirect
  -k, --insecure           accept any TLS certificate
      --cacert FILE        trust this CA for TLS
      --http1.1            HTTP/1.1 (the default)
      --http2              HTTP/2 where the server offers it (https, by ALPN), else HTTP/1.1
      --http2-prior-knowledge
                           HTTP/2 only: over http:// without asking first (h2c)
      --limit-rate SPEED   send at most SPEED bytes per second (k, M, G: 1024-based, as curl)
  -o, --output FILE        write the response body (with --dry-run: the request body) to FILE
  -i, --include            print the status line and headers before the body
  -f, --fail               exit 22 on an HTTP status of 400 or more, writing no body (as curl)
      --fail-with-body     as --fail, but write the body
      --decode             split a multipart answer into its parts: listed on stdout, and with
                           -o DIR written there, each beside its headers (as decode -o DIR)
      --dry-run            encode without sending; headers go to stderr
      --progress           show progress even when stderr is not a terminal
      --no-progress        never show progress
  -v, --verbose            print the request, and a stack trace on errors
  -h, --help               this text
      --version            the version

Receiving (serve):
      --port N             port, 0 to 65535 (default 5000; 0 picks a free one)
      --host H             address to listen on (default 127.0.0.1, loopback only)
      --max-size BYTES     largest body accepted (default 2 GiB)
      --max-parts N        most parts accepted (default 10000)
      --text               answer with a text table instead of JSON

Large files in pieces (with -T FILE; -H, --timeout, --retry, -k, --cacert, -x, --http2,
--http2-prior-knowledge, --http1.1, --limit-rate and --progress apply):
      --tus URL            a tus upload, created at the server's endpoint URL
      --resumable URL      a Google resumable upload, started at URL (uploadType=resumable)
      --s3-part-urls FILE  S3 multipart: FILE holds one presigned PUT URL per part, part 1 first
      --s3-part-command C  S3 multipart: the shell command C prints the URL of part $PART_NUMBER
      --s3-complete URL    presigned POST that completes the S3 upload (else the parts are printed)
      --s3-abort URL       presigned DELETE that aborts it on a failure or Ctrl-C
      --s3-list URL        presigned GET (ListParts), asked when resuming
      --part-size BYTES    bytes per piece (default 8 MiB, --tus one PATCH; K, M, G: 1024s)
      --parallel N         pieces at once, 1 to 64 (default 4)
      --resume             keep a session: after Ctrl-C or a crash, the same command resumes

Exit codes (curl's numbers): 0 ok, 1 other failure (an unsupported scheme, an answer that is not
HTTP/1.x), 2 usage, 3 bad URL, 5 unknown proxy host, 6 unknown host, 7 cannot connect,
8 malformed answer, 18 answer cut short, 22 HTTP error with --fail, 23 cannot write output,
26 cannot read an input, 28 timeout, 35 TLS handshake failed, 47 too many redirects,
52 empty reply, 55 failure sending, 56 failure receiving, 60 untrusted certificate,
77 unreadable --cacert, 92 HTTP/2 stream reset;
129, 130, 143 ended by SIGHUP, SIGINT, SIGTERM.`;
