; kv.pasm — the node's key-value service: a line protocol on TCP (PUT key
; value / GET key / DEL key) over strings bound as "kv:KEY" in the persistent
; root directory; one VM thread per connection. Started by Ticker.main.
.class Kv
; Kv.main: listens on the port constant below (phantomd --kv-port rewrites
; 7070L when it creates the image; 0 disables the service).
.method static main 0 0
.locals 3
    ldc 7070L
    store 0
    load 0
    ifne on
    ldc "kv: disabled"
    print
    return
on:
t0:
    load 0
    invokenative net.listen
    store 1
t1:
    ldc "kv: listening on port "
    load 1
    invokenative net.port
    sconcat
    print
a0:
    load 1
    invokenative net.accept
    store 2
    ldc "Kv.conn"
    load 2
    invokenative thread.start
    pop
    goto a0
a1:
nonet:
    getfield Throwable.message
    ldc "kv: no network: "
    swap
    sconcat
    print
    return
lost:
    getfield Throwable.message
    ldc "kv: accept failed, service stopped: "
    swap
    sconcat
    print
    return
.catch * t0 t1 nonet
.catch * a0 a1 lost
.end
; conn(sock): serves one connection until end of stream or an I/O error
; (a connection of an earlier boot raises one at its first use).
; buf[pos..] is the received input not yet consumed.
.method static conn 1 0
.locals 7
t0:
    ldc ""
    store 1
    iconst 0
    store 2
next:
    load 1
    iconst 10
    load 2
    invokestatic Kv.index
    dup
    store 3
    ifge line
    load 2
    ifeq more
    load 1
    load 2
    load 1
    invokenative string.length
    invokestatic Kv.sub
    store 1
    iconst 0
    store 2
more:
    load 0
    iconst 4096
    invokenative net.read
    dup
    ifnull eof
    store 5
    load 1
    load 5
    sconcat
    store 1
    goto next
line:
    load 1
    load 2
    load 3
    invokestatic Kv.sub
    store 4
    load 3
    iconst 1
    iadd
    store 2
    load 0
    load 4
    invokestatic Kv.handle
    invokenative net.write
    goto next
eof:
    pop
t1:
    load 0
    invokenative net.close
    return
fail:
    pop
    load 0
    invokenative net.close
    return
.catch * t0 t1 fail
.end
; No wait before a reply: under a node, net.write is output-committed (the
; OK leaves only once the snapshot holding the change has committed), so an
; OK the client saw survives a crash.
; handle(line) -> the reply line.
.method static handle 1 1
.locals 6
    ; drop a trailing '\r'
    load 0
    invokenative string.length
    store 1
    load 1
    ifeq split
    load 0
    load 1
    iconst 1
    isub
    invokenative string.charAt
    iconst 13
    if_icmpne split
    load 0
    iconst 0
    load 1
    iconst 1
    isub
    invokestatic Kv.sub
    store 0
    iinc 1 -1
split:
    ; 2 = command, 3 = the rest after one space
    load 0
    iconst 32
    iconst 0
    invokestatic Kv.index
    store 4
    load 4
    ifge two
    load 0
    store 2
    ldc ""
    store 3
    goto cmd
two:
    load 0
    iconst 0
    load 4
    invokestatic Kv.sub
    store 2
    load 0
    load 4
    iconst 1
    iadd
    load 1
    invokestatic Kv.sub
    store 3
cmd:
    load 2
    ldc "PUT"
    invokenative string.equals
    ifne put
    load 2
    ldc "GET"
    invokenative string.equals
    ifne get
    load 2
    ldc "DEL"
    invokenative string.equals
    ifne del
    ldc "ERR unknown command (PUT key value, GET key, DEL key)\n"
    vreturn
put:
    load 3
    iconst 32
    iconst 0
    invokestatic Kv.index
    store 4
    load 4
    ifgt putok
    ldc "ERR usage: PUT key value\n"
    vreturn
putok:
    ldc "kv:"
    load 3
    iconst 0
    load 4
    invokestatic Kv.sub
    sconcat
    load 3
    load 4
    iconst 1
    iadd
    load 3
    invokenative string.length
    invokestatic Kv.sub
    invokenative root.put
    ldc "OK\n"
    vreturn
get:
    load 3
    invokenative string.length
    ifeq usage
    ldc "kv:"
    load 3
    sconcat
    invokenative root.get
    store 5
    load 5
    ifnull missing
    ldc "VALUE "
    load 5
    sconcat
    ldc "\n"
    sconcat
    vreturn
del:
    load 3
    invokenative string.length
    ifeq usage
    ldc "kv:"
    load 3
    sconcat
    invokenative root.remove
    ifeq missing
    ldc "OK\n"
    vreturn
missing:
    ldc "NOTFOUND\n"
    vreturn
usage:
    ldc "ERR usage: GET key / DEL key\n"
    vreturn
.end

; chars[b] is the one-byte string of byte b (there is no substring native):
; built on first use, kept in the heap like any static.
.static chars
.method static table 0 1
    getstatic Kv.chars
    dup
    ifnonnull have
    pop
    iconst 256
    newarray
    dup
    iconst 0
    ldc "\x00"
    astore
    dup
    iconst 1
    ldc "\x01"
    astore
    dup
    iconst 2
    ldc "\x02"
    astore
    dup
    iconst 3
    ldc "\x03"
    astore
    dup
    iconst 4
    ldc "\x04"
    astore
    dup
    iconst 5
    ldc "\x05"
    astore
    dup
    iconst 6
    ldc "\x06"
    astore
    dup
    iconst 7
    ldc "\x07"
    astore
    dup
    iconst 8
    ldc "\x08"
    astore
    dup
    iconst 9
    ldc "\x09"
    astore
    dup
    iconst 10
    ldc "\x0a"
    astore
    dup
    iconst 11
    ldc "\x0b"
    astore
    dup
    iconst 12
    ldc "\x0c"
    astore
    dup
    iconst 13
    ldc "\x0d"
    astore
    dup
    iconst 14
    ldc "\x0e"
    astore
    dup
    iconst 15
    ldc "\x0f"
    astore
    dup
    iconst 16
    ldc "\x10"
    astore
    dup
    iconst 17
    ldc "\x11"
    astore
    dup
    iconst 18
    ldc "\x12"
    astore
    dup
    iconst 19
    ldc "\x13"
    astore
    dup
    iconst 20
    ldc "\x14"
    astore
    dup
    iconst 21
    ldc "\x15"
    astore
    dup
    iconst 22
    ldc "\x16"
    astore
    dup
    iconst 23
    ldc "\x17"
    astore
    dup
    iconst 24
    ldc "\x18"
    astore
    dup
    iconst 25
    ldc "\x19"
    astore
    dup
    iconst 26
    ldc "\x1a"
    astore
    dup
    iconst 27
    ldc "\x1b"
    astore
    dup
    iconst 28
    ldc "\x1c"
    astore
    dup
    iconst 29
    ldc "\x1d"
    astore
    dup
    iconst 30
    ldc "\x1e"
    astore
    dup
    iconst 31
    ldc "\x1f"
    astore
    dup
    iconst 32
    ldc "\x20"
    astore
    dup
    iconst 33
    ldc "\x21"
    astore
    dup
    iconst 34
    ldc "\x22"
    astore
    dup
    iconst 35
    ldc "\x23"
    astore
    dup
    iconst 36
    ldc "\x24"
    astore
    dup
    iconst 37
    ldc "\x25"
    astore
    dup
    iconst 38
    ldc "\x26"
    astore
    dup
    iconst 39
    ldc "\x27"
    astore
    dup
    iconst 40
    ldc "\x28"
    astore
    dup
    iconst 41
    ldc "\x29"
    astore
    dup
    iconst 42
    ldc "\x2a"
    astore
    dup
    iconst 43
    ldc "\x2b"
    astore
    dup
    iconst 44
    ldc "\x2c"
    astore
    dup
    iconst 45
    ldc "\x2d"
    astore
    dup
    iconst 46
    ldc "\x2e"
    astore
    dup
    iconst 47
    ldc "\x2f"
    astore
    dup
    iconst 48
    ldc "\x30"
    astore
    dup
    iconst 49
    ldc "\x31"
    astore
    dup
    iconst 50
    ldc "\x32"
    astore
    dup
    iconst 51
    ldc "\x33"
    astore
    dup
    iconst 52
    ldc "\x34"
    astore
    dup
    iconst 53
    ldc "\x35"
    astore
    dup
    iconst 54
    ldc "\x36"
    astore
    dup
    iconst 55
    ldc "\x37"
    astore
    dup
    iconst 56
    ldc "\x38"
    astore
    dup
    iconst 57
    ldc "\x39"
    astore
    dup
    iconst 58
    ldc "\x3a"
    astore
    dup
    iconst 59
    ldc "\x3b"
    astore
    dup
    iconst 60
    ldc "\x3c"
    astore
    dup
    iconst 61
    ldc "\x3d"
    astore
    dup
    iconst 62
    ldc "\x3e"
    astore
    dup
    iconst 63
    ldc "\x3f"
    astore
    dup
    iconst 64
    ldc "\x40"
    astore
    dup
    iconst 65
    ldc "\x41"
    astore
    dup
    iconst 66
    ldc "\x42"
    astore
    dup
    iconst 67
    ldc "\x43"
    astore
    dup
    iconst 68
    ldc "\x44"
    astore
    dup
    iconst 69
    ldc "\x45"
    astore
    dup
    iconst 70
    ldc "\x46"
    astore
    dup
    iconst 71
    ldc "\x47"
    astore
    dup
    iconst 72
    ldc "\x48"
    astore
    dup
    iconst 73
    ldc "\x49"
    astore
    dup
    iconst 74
    ldc "\x4a"
    astore
    dup
    iconst 75
    ldc "\x4b"
    astore
    dup
    iconst 76
    ldc "\x4c"
    astore
    dup
    iconst 77
    ldc "\x4d"
    astore
    dup
    iconst 78
    ldc "\x4e"
    astore
    dup
    iconst 79
    ldc "\x4f"
    astore
    dup
    iconst 80
    ldc "\x50"
    astore
    dup
    iconst 81
    ldc "\x51"
    astore
    dup
    iconst 82
    ldc "\x52"
    astore
    dup
    iconst 83
    ldc "\x53"
    astore
    dup
    iconst 84
    ldc "\x54"
    astore
    dup
    iconst 85
    ldc "\x55"
    astore
    dup
    iconst 86
    ldc "\x56"
    astore
    dup
    iconst 87
    ldc "\x57"
    astore
    dup
    iconst 88
    ldc "\x58"
    astore
    dup
    iconst 89
    ldc "\x59"
    astore
    dup
    iconst 90
    ldc "\x5a"
    astore
    dup
    iconst 91
    ldc "\x5b"
    astore
    dup
    iconst 92
    ldc "\x5c"
    astore
    dup
    iconst 93
    ldc "\x5d"
    astore
    dup
    iconst 94
    ldc "\x5e"
    astore
    dup
    iconst 95
    ldc "\x5f"
    astore
    dup
    iconst 96
    ldc "\x60"
    astore
    dup
    iconst 97
    ldc "\x61"
    astore
    dup
    iconst 98
    ldc "\x62"
    astore
    dup
    iconst 99
    ldc "\x63"
    astore
    dup
    iconst 100
    ldc "\x64"
    astore
    dup
    iconst 101
    ldc "\x65"
    astore
    dup
    iconst 102
    ldc "\x66"
    astore
    dup
    iconst 103
    ldc "\x67"
    astore
    dup
    iconst 104
    ldc "\x68"
    astore
    dup
    iconst 105
    ldc "\x69"
    astore
    dup
    iconst 106
    ldc "\x6a"
    astore
    dup
    iconst 107
    ldc "\x6b"
    astore
    dup
    iconst 108
    ldc "\x6c"
    astore
    dup
    iconst 109
    ldc "\x6d"
    astore
    dup
    iconst 110
    ldc "\x6e"
    astore
    dup
    iconst 111
    ldc "\x6f"
    astore
    dup
    iconst 112
    ldc "\x70"
    astore
    dup
    iconst 113
    ldc "\x71"
    astore
    dup
    iconst 114
    ldc "\x72"
    astore
    dup
    iconst 115
    ldc "\x73"
    astore
    dup
    iconst 116
    ldc "\x74"
    astore
    dup
    iconst 117
    ldc "\x75"
    astore
    dup
    iconst 118
    ldc "\x76"
    astore
    dup
    iconst 119
    ldc "\x77"
    astore
    dup
    iconst 120
    ldc "\x78"
    astore
    dup
    iconst 121
    ldc "\x79"
    astore
    dup
    iconst 122
    ldc "\x7a"
    astore
    dup
    iconst 123
    ldc "\x7b"
    astore
    dup
    iconst 124
    ldc "\x7c"
    astore
    dup
    iconst 125
    ldc "\x7d"
    astore
    dup
    iconst 126
    ldc "\x7e"
    astore
    dup
    iconst 127
    ldc "\x7f"
    astore
    dup
    iconst 128
    ldc "\x80"
    astore
    dup
    iconst 129
    ldc "\x81"
    astore
    dup
    iconst 130
    ldc "\x82"
    astore
    dup
    iconst 131
    ldc "\x83"
    astore
    dup
    iconst 132
    ldc "\x84"
    astore
    dup
    iconst 133
    ldc "\x85"
    astore
    dup
    iconst 134
    ldc "\x86"
    astore
    dup
    iconst 135
    ldc "\x87"
    astore
    dup
    iconst 136
    ldc "\x88"
    astore
    dup
    iconst 137
    ldc "\x89"
    astore
    dup
    iconst 138
    ldc "\x8a"
    astore
    dup
    iconst 139
    ldc "\x8b"
    astore
    dup
    iconst 140
    ldc "\x8c"
    astore
    dup
    iconst 141
    ldc "\x8d"
    astore
    dup
    iconst 142
    ldc "\x8e"
    astore
    dup
    iconst 143
    ldc "\x8f"
    astore
    dup
    iconst 144
    ldc "\x90"
    astore
    dup
    iconst 145
    ldc "\x91"
    astore
    dup
    iconst 146
    ldc "\x92"
    astore
    dup
    iconst 147
    ldc "\x93"
    astore
    dup
    iconst 148
    ldc "\x94"
    astore
    dup
    iconst 149
    ldc "\x95"
    astore
    dup
    iconst 150
    ldc "\x96"
    astore
    dup
    iconst 151
    ldc "\x97"
    astore
    dup
    iconst 152
    ldc "\x98"
    astore
    dup
    iconst 153
    ldc "\x99"
    astore
    dup
    iconst 154
    ldc "\x9a"
    astore
    dup
    iconst 155
    ldc "\x9b"
    astore
    dup
    iconst 156
    ldc "\x9c"
    astore
    dup
    iconst 157
    ldc "\x9d"
    astore
    dup
    iconst 158
    ldc "\x9e"
    astore
    dup
    iconst 159
    ldc "\x9f"
    astore
    dup
    iconst 160
    ldc "\xa0"
    astore
    dup
    iconst 161
    ldc "\xa1"
    astore
    dup
    iconst 162
    ldc "\xa2"
    astore
    dup
    iconst 163
    ldc "\xa3"
    astore
    dup
    iconst 164
    ldc "\xa4"
    astore
    dup
    iconst 165
    ldc "\xa5"
    astore
    dup
    iconst 166
    ldc "\xa6"
    astore
    dup
    iconst 167
    ldc "\xa7"
    astore
    dup
    iconst 168
    ldc "\xa8"
    astore
    dup
    iconst 169
    ldc "\xa9"
    astore
    dup
    iconst 170
    ldc "\xaa"
    astore
    dup
    iconst 171
    ldc "\xab"
    astore
    dup
    iconst 172
    ldc "\xac"
    astore
    dup
    iconst 173
    ldc "\xad"
    astore
    dup
    iconst 174
    ldc "\xae"
    astore
    dup
    iconst 175
    ldc "\xaf"
    astore
    dup
    iconst 176
    ldc "\xb0"
    astore
    dup
    iconst 177
    ldc "\xb1"
    astore
    dup
    iconst 178
    ldc "\xb2"
    astore
    dup
    iconst 179
    ldc "\xb3"
    astore
    dup
    iconst 180
    ldc "\xb4"
    astore
    dup
    iconst 181
    ldc "\xb5"
    astore
    dup
    iconst 182
    ldc "\xb6"
    astore
    dup
    iconst 183
    ldc "\xb7"
    astore
    dup
    iconst 184
    ldc "\xb8"
    astore
    dup
    iconst 185
    ldc "\xb9"
    astore
    dup
    iconst 186
    ldc "\xba"
    astore
    dup
    iconst 187
    ldc "\xbb"
    astore
    dup
    iconst 188
    ldc "\xbc"
    astore
    dup
    iconst 189
    ldc "\xbd"
    astore
    dup
    iconst 190
    ldc "\xbe"
    astore
    dup
    iconst 191
    ldc "\xbf"
    astore
    dup
    iconst 192
    ldc "\xc0"
    astore
    dup
    iconst 193
    ldc "\xc1"
    astore
    dup
    iconst 194
    ldc "\xc2"
    astore
    dup
    iconst 195
    ldc "\xc3"
    astore
    dup
    iconst 196
    ldc "\xc4"
    astore
    dup
    iconst 197
    ldc "\xc5"
    astore
    dup
    iconst 198
    ldc "\xc6"
    astore
    dup
    iconst 199
    ldc "\xc7"
    astore
    dup
    iconst 200
    ldc "\xc8"
    astore
    dup
    iconst 201
    ldc "\xc9"
    astore
    dup
    iconst 202
    ldc "\xca"
    astore
    dup
    iconst 203
    ldc "\xcb"
    astore
    dup
    iconst 204
    ldc "\xcc"
    astore
    dup
    iconst 205
    ldc "\xcd"
    astore
    dup
    iconst 206
    ldc "\xce"
    astore
    dup
    iconst 207
    ldc "\xcf"
    astore
    dup
    iconst 208
    ldc "\xd0"
    astore
    dup
    iconst 209
    ldc "\xd1"
    astore
    dup
    iconst 210
    ldc "\xd2"
    astore
    dup
    iconst 211
    ldc "\xd3"
    astore
    dup
    iconst 212
    ldc "\xd4"
    astore
    dup
    iconst 213
    ldc "\xd5"
    astore
    dup
    iconst 214
    ldc "\xd6"
    astore
    dup
    iconst 215
    ldc "\xd7"
    astore
    dup
    iconst 216
    ldc "\xd8"
    astore
    dup
    iconst 217
    ldc "\xd9"
    astore
    dup
    iconst 218
    ldc "\xda"
    astore
    dup
    iconst 219
    ldc "\xdb"
    astore
    dup
    iconst 220
    ldc "\xdc"
    astore
    dup
    iconst 221
    ldc "\xdd"
    astore
    dup
    iconst 222
    ldc "\xde"
    astore
    dup
    iconst 223
    ldc "\xdf"
    astore
    dup
    iconst 224
    ldc "\xe0"
    astore
    dup
    iconst 225
    ldc "\xe1"
    astore
    dup
    iconst 226
    ldc "\xe2"
    astore
    dup
    iconst 227
    ldc "\xe3"
    astore
    dup
    iconst 228
    ldc "\xe4"
    astore
    dup
    iconst 229
    ldc "\xe5"
    astore
    dup
    iconst 230
    ldc "\xe6"
    astore
    dup
    iconst 231
    ldc "\xe7"
    astore
    dup
    iconst 232
    ldc "\xe8"
    astore
    dup
    iconst 233
    ldc "\xe9"
    astore
    dup
    iconst 234
    ldc "\xea"
    astore
    dup
    iconst 235
    ldc "\xeb"
    astore
    dup
    iconst 236
    ldc "\xec"
    astore
    dup
    iconst 237
    ldc "\xed"
    astore
    dup
    iconst 238
    ldc "\xee"
    astore
    dup
    iconst 239
    ldc "\xef"
    astore
    dup
    iconst 240
    ldc "\xf0"
    astore
    dup
    iconst 241
    ldc "\xf1"
    astore
    dup
    iconst 242
    ldc "\xf2"
    astore
    dup
    iconst 243
    ldc "\xf3"
    astore
    dup
    iconst 244
    ldc "\xf4"
    astore
    dup
    iconst 245
    ldc "\xf5"
    astore
    dup
    iconst 246
    ldc "\xf6"
    astore
    dup
    iconst 247
    ldc "\xf7"
    astore
    dup
    iconst 248
    ldc "\xf8"
    astore
    dup
    iconst 249
    ldc "\xf9"
    astore
    dup
    iconst 250
    ldc "\xfa"
    astore
    dup
    iconst 251
    ldc "\xfb"
    astore
    dup
    iconst 252
    ldc "\xfc"
    astore
    dup
    iconst 253
    ldc "\xfd"
    astore
    dup
    iconst 254
    ldc "\xfe"
    astore
    dup
    iconst 255
    ldc "\xff"
    astore
    dup
    putstatic Kv.chars
have:
    vreturn
.end
; sub(s, from, to): the bytes [from, to) of s as a new string.
.method static sub 3 1
.locals 5
    invokestatic Kv.table
    store 4
    ldc ""
    store 3
loop:
    load 1
    load 2
    if_icmpge done
    load 3
    load 4
    load 0
    load 1
    invokenative string.charAt
    aload
    sconcat
    store 3
    iinc 1 1
    goto loop
done:
    load 3
    vreturn
.end
; index(s, byte, from): the first position >= from holding byte, or -1.
.method static index 3 1
.locals 4
    load 0
    invokenative string.length
    store 3
loop:
    load 2
    load 3
    if_icmpge none
    load 0
    load 2
    invokenative string.charAt
    load 1
    if_icmpeq found
    iinc 2 1
    goto loop
found:
    load 2
    vreturn
none:
    iconst -1
    vreturn
.end
