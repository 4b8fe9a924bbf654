// Reads JSON lines {"contentType": ..., "body": base64} on stdin; prints for each the MIME tree
// that Go's mime/multipart.Reader parses from it (NextRawPart: no transfer decoding), in the same
// shape as mime_tree.py. Nested multipart parts are parsed with their own boundary.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"os"
	"strings"
)

type node struct {
	Headers [][2]string `json:"headers"`
	Body    []byte      `json:"body"`
	Parts   []node      `json:"parts,omitempty"`
	Error   string      `json:"error,omitempty"`
}

func parse(contentType string, body []byte, headers [][2]string) node {
	n := node{Headers: headers}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.HasPrefix(mediaType, "multipart/") {
		n.Body = body
		if n.Body == nil {
			n.Body = []byte{}
		}
		return n
	}
	reader := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	n.Parts = []node{}
	for {
		part, err := reader.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			n.Error = err.Error()
			return n
		}
		data, err := io.ReadAll(part)
		if err != nil {
			n.Error = err.Error()
			return n
		}
		var lines [][2]string
		for name, values := range part.Header {
			for _, value := range values {
				lines = append(lines, [2]string{name, value})
			}
		}
		n.Parts = append(n.Parts, parse(part.Header.Get("Content-Type"), data, lines))
	}
	return n
}

func main() {
	scanner := bufio.NewScanner(os.Stdin)
	scanner.Buffer(make([]byte, 1<<20), 1<<30)
	for scanner.Scan() {
		var request struct {
			ContentType string `json:"contentType"`
			Body        []byte `json:"body"`
		}
		if err := json.Unmarshal(scanner.Bytes(), &request); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		out, _ := json.Marshal(parse(request.ContentType, request.Body, [][2]string{{"Content-Type", request.ContentType}}))
		fmt.Println(string(out))
	}
}
