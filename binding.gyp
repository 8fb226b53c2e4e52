{
  "targets": [
    {
      "target_name": "rivulet_fanout",
      "sources": ["src/native/fanout.c"],
      "cflags": ["-O2", "-Wall"],
      "conditions": [["OS!='linux'", { "sources!": ["src/native/fanout.c"] }]]
    }
  ]
}
