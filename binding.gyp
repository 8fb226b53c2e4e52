{
  "targets": [
    {
      "target_name": "rivulet_fanout",
      "sources": ["src/native/fanout.c"],
      "cflags": ["-O2", "-Wall"],
      "conditions": [["OS!='linux'", { "sources!": ["src/native/fanout.c"] }]]
    },
    {
      "target_name": "rivulet_bench_recv",
      "variables": { "has_bench%": "<!(node -p \"+require('fs').existsSync('bench/native/udp-recv.c')\")" },
      "sources": ["bench/native/udp-recv.c"],
      "cflags": ["-O2", "-Wall"],
      "conditions": [["OS!='linux' or has_bench==0", { "sources!": ["bench/native/udp-recv.c"] }]]
    }
  ]
}
