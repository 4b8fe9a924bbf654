// Writes a multipart/form-data body with Go's mime/multipart.Writer and prints its Content-Type and
// body as JSON: fields, a file whose name holds a quote and a backslash (the Writer escapes both), a
// part with headers of its own, and binary data holding CR, LF and dashes.
package main

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/textproto"
	"os"
)

func main() {
	var body bytes.Buffer
	writer := multipart.NewWriter(&body)
	must(writer.WriteField("plain", "value"))
	must(writer.WriteField(`quote"and\backslash`, "second"))
	file, err := writer.CreateFormFile("file", `dir\na"me.bin`)
	must(err)
	data := make([]byte, 70000)
	for i := range data {
		data[i] = "\r\n-x"[i%4]
	}
	_, err = file.Write(data)
	must(err)
	header := textproto.MIMEHeader{}
	header.Set("Content-Type", "application/json")
	header.Set("Content-Id", "<meta@example.com>")
	part, err := writer.CreatePart(header)
	must(err)
	_, err = part.Write([]byte(`{"a":1}`))
	must(err)
	must(writer.Close())
	must(json.NewEncoder(os.Stdout).Encode(map[string]any{"contentType": writer.FormDataContentType(), "body": body.Bytes()}))
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
