// Command imgbuild assembles a single-layer image from local files, without a registry or
// a container daemon, and writes it as a `docker save`-style tarball that
// `ctr -n k8s.io images import` reads:
//
//	imgbuild -ref registry.k8s.io/pause:3.10 -o pause.tar -entrypoint /pause bin/pause:/pause
//	imgbuild -ref kstates.local/order-tasks:dev -o order-tasks.tar -entrypoint /order-tasks \
//	    -env KSTATES_TASKKIT=1 bin/order-tasks:/order-tasks
//	imgbuild -ref docker.io/library/busybox:1.36 -o busybox.tar -busybox /bin/busybox
//
// The layer is reproducible (files sorted as given, modification times at the epoch), so
// rebuilding unchanged binaries gives the same image digest and containerd keeps its
// snapshot. Every image has /tmp, /etc, /dev, /proc, /sys and /var/run, which the kubelet
// and runc expect to be able to mount onto.
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	log.SetFlags(0)
	log.SetPrefix("imgbuild: ")
	ref := flag.String("ref", "", "image reference, with a fixed tag (required)")
	out := flag.String("o", "", "output tarball (required)")
	entry := flag.String("entrypoint", "", "comma-separated entrypoint")
	cmd := flag.String("cmd", "", "comma-separated default arguments")
	workdir := flag.String("workdir", "", "working directory")
	user := flag.String("user", "", "user (uid[:gid]) the container runs as by default")
	bb := flag.String("busybox", "", "path to a static busybox: installed as /bin/busybox with its applets linked in /bin")
	var env listFlag
	flag.Var(&env, "env", "NAME=value in the image's environment (repeatable)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: imgbuild -ref REF -o OUT.tar [flags] [src:dst ...]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *ref == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	tag, err := name.NewTag(*ref, name.StrictValidation)
	if err != nil {
		log.Fatalf("-ref %q: %v", *ref, err)
	}

	layer, err := buildLayer(*bb, flag.Args())
	if err != nil {
		log.Fatal(err)
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layer)), nil
	})
	must(err)
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: l})
	must(err)
	cf, err := img.ConfigFile()
	must(err)
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = "amd64", "linux"
	cf.Created.Time = time.Unix(0, 0).UTC()
	cf.Config.Env = append([]string{"PATH=/bin:/usr/bin:/sbin:/usr/sbin"}, env...)
	if *entry != "" {
		cf.Config.Entrypoint = strings.Split(*entry, ",")
	}
	if *cmd != "" {
		cf.Config.Cmd = strings.Split(*cmd, ",")
	}
	cf.Config.WorkingDir = *workdir
	cf.Config.User = *user
	img, err = mutate.ConfigFile(img, cf)
	must(err)
	must(tarball.WriteToFile(*out, tag, img))
	d, err := img.Digest()
	must(err)
	log.Printf("wrote %s (%s, %s)", *out, tag, d)
}

// buildLayer returns the tar of the image's only layer: the base folders, busybox with its
// applets when bb is set, and each src:dst file (mode 0755).
func buildLayer(bb string, files []string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mt := time.Unix(0, 0)
	dirs := map[string]bool{}
	mkdir := func(d string) error {
		parts := strings.Split(strings.Trim(d, "/"), "/")
		for i := range parts {
			p := strings.Join(parts[:i+1], "/") + "/"
			if p == "/" || dirs[p] {
				continue
			}
			dirs[p] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: p, Mode: 0o755, ModTime: mt}); err != nil {
				return err
			}
		}
		return nil
	}
	addFile := func(src, dst string) error {
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		dst = strings.TrimPrefix(dst, "/")
		if dst == "" || strings.HasSuffix(dst, "/") {
			return fmt.Errorf("%s: the destination must be a file path", src)
		}
		if i := strings.LastIndex(dst, "/"); i > 0 {
			if err := mkdir(dst[:i]); err != nil {
				return err
			}
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: dst, Mode: 0o755, Size: int64(len(b)), ModTime: mt}); err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	}
	// /tmp is world-writable with the sticky bit, as everywhere.
	dirs["tmp/"] = true
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777, ModTime: mt}); err != nil {
		return nil, err
	}
	for _, d := range []string{"etc", "dev", "proc", "sys", "var/run"} {
		if err := mkdir(d); err != nil {
			return nil, err
		}
	}
	if bb != "" {
		if err := addFile(bb, "/bin/busybox"); err != nil {
			return nil, err
		}
		list, err := exec.Command(bb, "--list").Output()
		if err != nil {
			return nil, fmt.Errorf("%s --list: %v", bb, err)
		}
		for _, a := range strings.Fields(string(list)) {
			if a == "busybox" {
				continue
			}
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + a, Linkname: "busybox", Mode: 0o777, ModTime: mt}); err != nil {
				return nil, err
			}
		}
	}
	for _, m := range files {
		src, dst, ok := strings.Cut(m, ":")
		if !ok {
			return nil, fmt.Errorf("want src:dst, got %q", m)
		}
		if err := addFile(src, dst); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
