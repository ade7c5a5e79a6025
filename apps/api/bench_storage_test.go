package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gellhub/gellhub/adapters/s3blob"
	"github.com/gellhub/gellhub/adapters/s3blob/s3test"
)

// pattern is an endless, incompressible-looking, allocation-free byte
// stream (a xorshift generator), so that neither side can shortcut it.
type pattern struct {
	left  int64
	state uint64
}

func newPattern(n int64) *pattern { return &pattern{left: n, state: 0x9e3779b97f4a7c15} }

func (p *pattern) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	for i := 0; i+8 <= len(b); i += 8 {
		p.state ^= p.state << 13
		p.state ^= p.state >> 7
		p.state ^= p.state << 17
		for j := 0; j < 8; j++ {
			b[i+j] = byte(p.state >> (8 * j))
		}
	}
	for i := len(b) &^ 7; i < len(b); i++ {
		b[i] = byte(i)
	}
	p.left -= int64(len(b))
	return len(b), nil
}

// server runs the built API binary as its own process, so its peak RSS is
// its own (VmHWM in /proc).
type server struct {
	cmd  *exec.Cmd
	base string
}

func startServer(b *testing.B, env []string) *server {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "gellhub-api")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		b.Fatalf("build: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), append(env, "GELLHUB_ADDR="+addr, "GELLHUB_DATA_DIR="+b.TempDir(),
		"GELLHUB_RATE_LIMITS=off", "GELLHUB_LOG_LEVEL=warn")...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
	s := &server{cmd: cmd, base: "http://" + addr}
	for i := 0; i < 200; i++ {
		if res, err := http.Get(s.base + "/healthz"); err == nil {
			res.Body.Close()
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatal("server did not start")
	return nil
}

// resetPeakRSS resets the server's peak RSS to its current RSS (Linux:
// clear_refs 5) and returns that, in MiB; peakRSS then reports the peak
// of what follows only.
func (s *server) resetPeakRSS(b *testing.B) float64 {
	b.Helper()
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.cmd.Process.Pid), []byte("5"), 0); err != nil {
		b.Fatal(err)
	}
	return s.status(b, "VmRSS:")
}

// peakRSS is the server process's peak resident set size, in MiB.
func (s *server) peakRSS(b *testing.B) float64 { return s.status(b, "VmHWM:") }

func (s *server) status(b *testing.B, field string) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, field) {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			return float64(kb) / 1024
		}
	}
	b.Fatal("no " + field)
	return 0
}

func postJSON(b *testing.B, url, key string, body any) map[string]any {
	b.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		b.Fatalf("%s: %d %s", url, res.StatusCode, out)
	}
	_ = json.Unmarshal(out, &m)
	return m
}

func mib(n int64, d time.Duration) float64 { return float64(n) / (1 << 20) / d.Seconds() }

// BenchmarkStorage measures, against S3 (versitygw on loopback) and a
// separate API process: a 1 GiB proxy upload (throughput, and the
// server's peak RSS) against the same upload straight to S3 with the same
// SDK; the /api/media download of it against a direct GetObject; and
// presign + complete latency. Run with -benchtime=1x (go tool task bench).
func BenchmarkStorage(b *testing.B) {
	const size = int64(1) << 30
	cfg := s3test.Start(b)
	srv := startServer(b, []string{
		"GELLHUB_S3_ENDPOINT=" + cfg.Endpoint, "GELLHUB_S3_BUCKET=" + cfg.Bucket, "GELLHUB_S3_REGION=" + cfg.Region,
		"GELLHUB_S3_ACCESS_KEY=" + cfg.AccessKey, "GELLHUB_S3_SECRET_KEY=" + cfg.SecretKey,
	})
	reg := postJSON(b, srv.base+"/api/register", "", map[string]any{
		"email": "bench@example.com", "password": "a long password", "displayName": "Bench", "accountType": "studio",
	})
	key := reg["apiKey"].(string)
	col := postJSON(b, srv.base+"/api/collections", key, map[string]any{"name": "Bench", "clientName": "C"})["id"].(string)
	direct, err := s3blob.New(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		// 1. Proxy upload through the API, streamed.
		var head bytes.Buffer
		mw := multipart.NewWriter(&head)
		_ = mw.WriteField("collectionId", col)
		if _, err := mw.CreateFormFile("file", "big.bin"); err != nil {
			b.Fatal(err)
		}
		tail := "\r\n--" + mw.Boundary() + "--\r\n"
		body := io.MultiReader(bytes.NewReader(head.Bytes()), newPattern(size), strings.NewReader(tail))
		req, _ := http.NewRequest("POST", srv.base+"/api/upload", body)
		req.ContentLength = int64(head.Len()) + size + int64(len(tail))
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("x-api-key", key)
		baseRSS := srv.resetPeakRSS(b)
		start := time.Now()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(res.Body)
		res.Body.Close()
		proxy := time.Since(start)
		if res.StatusCode != http.StatusCreated {
			b.Fatalf("upload: %d %s", res.StatusCode, out)
		}
		rss := srv.peakRSS(b)

		// 2. The same bytes straight to S3 with the same SDK.
		start = time.Now()
		if _, err := direct.Put(context.Background(), "direct/big.bin", newPattern(size), "application/octet-stream", size); err != nil {
			b.Fatal(err)
		}
		directPut := time.Since(start)

		// 3. Download through /api/media against a direct GetObject.
		res, err = http.DefaultClient.Do(mustReq(b, "GET", srv.base+"/api/collections/"+col+"/files", key))
		if err != nil {
			b.Fatal(err)
		}
		var files []map[string]any
		_ = json.NewDecoder(res.Body).Decode(&files)
		res.Body.Close()
		start = time.Now()
		res, err = http.Get(files[0]["url"].(string))
		if err != nil {
			b.Fatal(err)
		}
		got, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		media := time.Since(start)
		if got != size {
			b.Fatalf("media: %d bytes", got)
		}
		start = time.Now()
		rc, _, err := direct.Get(context.Background(), "direct/big.bin", nil)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, rc)
		rc.Close()
		directGet := time.Since(start)

		// 4. presign + complete (the PUT in between is not timed).
		var lat []time.Duration
		for i := 0; i < 300; i++ {
			t0 := time.Now()
			pre := postJSON(b, srv.base+"/api/upload/presign", key, map[string]any{"collectionId": col, "fileName": "s.jpg", "contentType": "image/jpeg", "sizeBytes": 1024})
			d := time.Since(t0)
			put, _ := http.NewRequest("PUT", pre["uploadUrl"].(string), bytes.NewReader(make([]byte, 1024)))
			put.Header.Set("Content-Type", "image/jpeg")
			pres, err := http.DefaultClient.Do(put)
			if err != nil || pres.StatusCode != 200 {
				b.Fatalf("put: %v %v", err, pres)
			}
			pres.Body.Close()
			t0 = time.Now()
			postJSON(b, srv.base+"/api/upload/complete", key, map[string]any{"collectionId": col, "storageKey": pre["storageKey"], "fileName": "s.jpg", "contentType": "image/jpeg", "sizeBytes": 1024})
			lat = append(lat, d+time.Since(t0))
		}
		slices.Sort(lat)

		b.ReportMetric(mib(size, proxy), "proxy-MiB/s")
		b.ReportMetric(mib(size, directPut), "direct-put-MiB/s")
		b.ReportMetric(100*directPut.Seconds()/proxy.Seconds(), "proxy-%-of-direct")
		b.ReportMetric(rss, "server-peak-RSS-MiB")
		b.ReportMetric(baseRSS, "server-RSS-before-MiB")
		b.ReportMetric(mib(size, media), "media-MiB/s")
		b.ReportMetric(mib(size, directGet), "direct-get-MiB/s")
		b.ReportMetric(100*directGet.Seconds()/media.Seconds(), "media-%-of-direct")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "presign+complete-p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "presign+complete-p99-ms")
	}
}

func mustReq(b *testing.B, method, url, key string) *http.Request {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("x-api-key", key)
	return req
}
