#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "gguf/gguf.h"
#include "gguf/quants.h"
#include "gguf_builder.h"

namespace gavel::gguf {
namespace {

using testing::build_file;
using testing::Bytes;
using testing::Tensor;

std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// One kv of each of the 13 value types, plus a nested array and an empty array.
Bytes all_types_kvs(uint64_t& n) {
  Bytes kv;
  kv.str("t.u8").put<uint32_t>(0).put<uint8_t>(200);
  kv.str("t.i8").put<uint32_t>(1).put<int8_t>(-100);
  kv.str("t.u16").put<uint32_t>(2).put<uint16_t>(60000);
  kv.str("t.i16").put<uint32_t>(3).put<int16_t>(-30000);
  kv.str("t.u32").put<uint32_t>(4).put<uint32_t>(4000000000u);
  kv.str("t.i32").put<uint32_t>(5).put<int32_t>(-2000000000);
  kv.str("t.f32").put<uint32_t>(6).put<float>(1.5f);
  kv.str("t.bool").put<uint32_t>(7).put<uint8_t>(1);
  kv.str("t.string").put<uint32_t>(8).str("héllo");
  kv.str("t.arr_i32").put<uint32_t>(9).put<uint32_t>(5).put<uint64_t>(3);
  kv.put<int32_t>(1).put<int32_t>(-2).put<int32_t>(3);
  kv.str("t.u64").put<uint32_t>(10).put<uint64_t>(18000000000000000000ull);
  kv.str("t.i64").put<uint32_t>(11).put<int64_t>(-9000000000000000000ll);
  kv.str("t.f64").put<uint32_t>(12).put<double>(-0.125);
  kv.str("t.arr_str").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(2).str("a b").str("");
  // array of 2 arrays of u16
  kv.str("t.nested").put<uint32_t>(9).put<uint32_t>(9).put<uint64_t>(2);
  kv.put<uint32_t>(2).put<uint64_t>(2).put<uint16_t>(7).put<uint16_t>(8);
  kv.put<uint32_t>(2).put<uint64_t>(1).put<uint16_t>(9);
  kv.str("t.empty").put<uint32_t>(9).put<uint32_t>(6).put<uint64_t>(0);
  kv.str("t.arr_f32").put<uint32_t>(9).put<uint32_t>(6).put<uint64_t>(2);
  kv.put<float>(0.25f).put<float>(-4.0f);
  n = 17;
  return kv;
}

std::vector<Tensor> sample_tensors() {
  std::vector<Tensor> ts;
  ts.push_back({"a.weight", {4, 2}, 0, f32_bytes({1, 2, 3, 4, 5, 6, 7, 8})});
  std::vector<uint8_t> q8(34 * 2);  // Q8_0 {32, 2}: two blocks
  for (size_t i = 0; i < q8.size(); ++i) q8[i] = static_cast<uint8_t>(i * 7);
  q8[0] = 0x00, q8[1] = 0x3C;    // d = 1.0
  q8[34] = 0x00, q8[35] = 0x40;  // d = 2.0
  ts.push_back({"b.weight", {32, 2}, 8, q8});
  ts.push_back({"c.bias", {3}, 0, f32_bytes({-1, 0, 1})});
  return ts;
}

Result<std::unique_ptr<File>> parse(const std::vector<uint8_t>& img, const char* name = "t.gguf") {
  return File::parse(img.data(), img.size(), name);
}

TEST(GgufReader, ParsesEveryValueTypeV3) {
  uint64_t n;
  Bytes kv = all_types_kvs(n);
  auto img = build_file(3, n, kv, sample_tensors());
  auto f = parse(img);
  ASSERT_TRUE(f.ok()) << f.message();
  const File& file = **f;
  EXPECT_EQ(file.version(), 3u);
  ASSERT_EQ(file.keys().size(), 17u);
  EXPECT_EQ(file.keys()[0], "t.u8");
  EXPECT_EQ(file.keys()[16], "t.arr_f32");
  EXPECT_EQ(*file.get_int("t.u8"), 200);
  EXPECT_EQ(*file.get_int("t.i8"), -100);
  EXPECT_EQ(*file.get_int("t.u16"), 60000);
  EXPECT_EQ(*file.get_int("t.i16"), -30000);
  EXPECT_EQ(*file.get_int("t.u32"), 4000000000LL);
  EXPECT_EQ(*file.get_int("t.i32"), -2000000000);
  EXPECT_EQ(*file.get_float("t.f32"), 1.5);
  EXPECT_EQ(*file.get_bool("t.bool"), true);
  EXPECT_EQ(*file.get_string("t.string"), "héllo");
  EXPECT_EQ(*file.get_int_array("t.arr_i32"), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(file.find("t.u64")->u, 18000000000000000000ull);
  EXPECT_FALSE(file.get_int("t.u64").ok());  // does not fit in int64
  EXPECT_EQ(*file.get_int("t.i64"), -9000000000000000000LL);
  EXPECT_EQ(*file.get_float("t.f64"), -0.125);
  EXPECT_EQ(*file.get_string_array("t.arr_str"), (std::vector<std::string>{"a b", ""}));
  const Value* strs = file.find("t.arr_str");
  EXPECT_EQ(strs->element(0).s, "a b");
  EXPECT_EQ(strs->element(1).s, "");
  EXPECT_EQ(strs->element(1).type, ValueType::kString);
  EXPECT_EQ(strs->strings(), (std::vector<std::string_view>{"a b", ""}));
  EXPECT_EQ(file.find("t.arr_f32")->element(1).f, -4.0);
  const Value* nested = file.find("t.nested");
  ASSERT_NE(nested, nullptr);
  EXPECT_EQ(nested->type, ValueType::kArray);
  EXPECT_EQ(nested->elem_type, ValueType::kArray);
  ASSERT_EQ(nested->arr.size(), 2u);
  EXPECT_EQ(nested->arr[0].elem_type, ValueType::kU16);
  ASSERT_EQ(nested->arr[0].size(), 2u);
  EXPECT_EQ(nested->arr[0].element(1).u, 8u);
  EXPECT_EQ(nested->arr[1].element(0).u, 9u);
  EXPECT_EQ(nested->arr[1].element(0).type, ValueType::kU16);
  EXPECT_TRUE(file.get_float_array("t.empty")->empty());
  EXPECT_EQ(*file.get_float_array("t.arr_f32"), (std::vector<double>{0.25, -4.0}));
  EXPECT_EQ(*file.get_float_array("t.arr_i32"), (std::vector<double>{1, -2, 3}));

  ASSERT_EQ(file.tensors().size(), 3u);
  const TensorInfo* a = file.tensor("a.weight");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->ne, (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(a->n_elements(), 8);
  EXPECT_EQ(a->rows(), 2);
  EXPECT_EQ(a->nbytes, 32u);
  EXPECT_EQ(a->offset, 0u);
  float v[8];
  std::memcpy(v, a->data, 32);
  EXPECT_EQ(v[7], 8.0f);
  const TensorInfo* b = file.tensor("b.weight");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->type, TensorType::kQ8_0);
  EXPECT_EQ(b->nbytes, 68u);
  EXPECT_EQ(b->offset, 32u);
  EXPECT_EQ(b->data - a->data, 32);
  EXPECT_EQ(static_cast<size_t>(a->data - img.data()), file.data_offset());
  EXPECT_EQ(file.data_offset() % 32, 0u);
  std::vector<float> deq(64);
  ASSERT_TRUE(dequantize_tensor(*b, deq.data()).ok());
  EXPECT_EQ(deq[0], 14.0f);   // byte 2 = 14, d = 1
  EXPECT_EQ(deq[32], -8.0f);  // byte 36 = 252 = int8 -4, d = 2
  EXPECT_EQ(file.tensor("c.bias")->rows(), 1);
  EXPECT_EQ(file.tensor("missing"), nullptr);
}

TEST(GgufReader, ParsesV2AndCustomAlignment) {
  Bytes kv;
  kv.str("general.alignment").put<uint32_t>(4).put<uint32_t>(64);
  kv.str("general.architecture").put<uint32_t>(8).str("llama");
  auto img = build_file(2, 2, kv, sample_tensors(), 64);
  auto f = parse(img);
  ASSERT_TRUE(f.ok()) << f.message();
  EXPECT_EQ((*f)->version(), 2u);
  EXPECT_EQ((*f)->alignment(), 64u);
  EXPECT_EQ((*f)->data_offset() % 64, 0u);
  EXPECT_EQ((*f)->tensor("b.weight")->offset, 64u);
  EXPECT_EQ((*f)->tensor("c.bias")->offset, 192u);
  EXPECT_EQ(*(*f)->get_string("general.architecture"), "llama");
}

TEST(GgufReader, GetterErrorsNameTheKey) {
  uint64_t n;
  auto img = build_file(3, 0, Bytes(), {});
  (void)n;
  Bytes kv;
  kv.str("x.name").put<uint32_t>(8).str("v");
  img = build_file(3, 1, kv, {});
  auto f = parse(img);
  ASSERT_TRUE(f.ok()) << f.message();
  auto i = (*f)->get_int("x.name");
  ASSERT_FALSE(i.ok());
  EXPECT_NE(i.message().find("x.name"), std::string::npos) << i.message();
  EXPECT_NE(i.message().find("string"), std::string::npos) << i.message();
  auto m = (*f)->get_string("x.missing");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.message().find("x.missing"), std::string::npos);
  EXPECT_EQ(m.code(), StatusCode::kNotFound);  // callers fall back on a missing key
  EXPECT_EQ(i.code(), StatusCode::kCorruption);
  EXPECT_FALSE((*f)->get_string_array("x.name").ok());
  EXPECT_FALSE((*f)->get_bool("x.name").ok());
}

void expect_error(const std::vector<uint8_t>& img, const std::vector<std::string>& parts) {
  auto f = parse(img, "bad.gguf");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.message().find("bad.gguf"), std::string::npos) << f.message();
  EXPECT_EQ(f.code(), StatusCode::kCorruption) << f.message();
  for (const auto& p : parts) EXPECT_NE(f.message().find(p), std::string::npos) << f.message();
}

TEST(GgufReader, RejectsBadHeaders) {
  auto img = build_file(3, 0, Bytes(), {});
  img[0] = 'X';
  expect_error(img, {"magic"});
  expect_error(build_file(1, 0, Bytes(), {}), {"v1"});
  expect_error(build_file(4, 0, Bytes(), {}), {"version 4"});
  expect_error(build_file(0x03000000, 0, Bytes(), {}), {"big-endian"});
  expect_error({}, {"magic", "truncated"});
}

TEST(GgufReader, EveryTruncationIsAnError) {
  uint64_t n;
  Bytes kv = all_types_kvs(n);
  auto img = build_file(3, n, kv, sample_tensors());
  for (size_t len = 0; len < img.size(); ++len) {
    // The last tensor ends before the final alignment padding; anything past it is fine.
    std::vector<uint8_t> cut(img.begin(), img.begin() + static_cast<std::ptrdiff_t>(len));
    auto f = parse(cut);
    if (len >= img.size() - 20) continue;  // padding after c.bias (12 bytes of data)
    EXPECT_FALSE(f.ok()) << "prefix of " << len << " bytes parsed";
    if (!f.ok()) {
      EXPECT_NE(f.message().find("offset"), std::string::npos) << f.message();
      EXPECT_EQ(f.code(), StatusCode::kCorruption) << f.message();
    }
  }
}

TEST(GgufReader, RejectsHugeCountsBeforeAllocating) {
  Bytes kv;
  kv.str("k").put<uint32_t>(8).put<uint64_t>(1ull << 62);  // string length
  expect_error(build_file(3, 1, kv, {}), {"'k'", "string length"});
  Bytes strs;  // an array of strings (kept as views into the image) whose second one overruns
  strs.str("k.s").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(2).str("ok").put<uint64_t>(1ull
                                                                                             << 40);
  expect_error(build_file(3, 1, strs, {}), {"'k.s'", "string length"});
  Bytes arr;
  arr.str("k.arr").put<uint32_t>(9).put<uint32_t>(10).put<uint64_t>(1ull << 60);
  expect_error(build_file(3, 1, arr, {}), {"'k.arr'", "cannot fit"});
  Bytes nested;  // arrays of arrays: each element needs >= 12 bytes
  nested.str("k.n").put<uint32_t>(9).put<uint32_t>(9).put<uint64_t>(5).put<uint64_t>(0);
  expect_error(build_file(3, 1, nested, {}), {"'k.n'"});
  // n_kv / n_tensors far larger than the file
  Bytes h;
  h.put<uint32_t>(0x46554747).put<uint32_t>(3).put<uint64_t>(0).put<uint64_t>(~0ull);
  expect_error(h.data(), {"metadata count"});
  Bytes h2;
  h2.put<uint32_t>(0x46554747).put<uint32_t>(3).put<uint64_t>(1ull << 40).put<uint64_t>(0);
  expect_error(h2.data(), {"tensor count"});
}

TEST(GgufReader, RejectsBadValueTypes) {
  Bytes kv;
  kv.str("k").put<uint32_t>(13).put<uint32_t>(0);
  expect_error(build_file(3, 1, kv, {}), {"'k'", "invalid value type 13"});
  Bytes arr;
  arr.str("k").put<uint32_t>(9).put<uint32_t>(99).put<uint64_t>(0);
  expect_error(build_file(3, 1, arr, {}), {"'k'", "element type 99"});
  Bytes dup;
  dup.str("k").put<uint32_t>(0).put<uint8_t>(1).str("k").put<uint32_t>(0).put<uint8_t>(2);
  expect_error(build_file(3, 2, dup, {}), {"'k'", "duplicate"});
  // 9 levels of nesting
  Bytes deep;
  deep.str("deep").put<uint32_t>(9);
  for (int i = 0; i < 9; ++i) deep.put<uint32_t>(9).put<uint64_t>(1);
  deep.put<uint32_t>(0).put<uint64_t>(0);
  expect_error(build_file(3, 1, deep, {}), {"'deep'", "nested"});
}

TEST(GgufReader, RejectsBadAlignment) {
  Bytes kv;
  kv.str("general.alignment").put<uint32_t>(4).put<uint32_t>(24);
  expect_error(build_file(3, 1, kv, {}), {"general.alignment", "power of two"});
  Bytes kv0;
  kv0.str("general.alignment").put<uint32_t>(4).put<uint32_t>(0);
  expect_error(build_file(3, 1, kv0, {}), {"general.alignment"});
  Bytes kvs;
  kvs.str("general.alignment").put<uint32_t>(8).str("32");
  expect_error(build_file(3, 1, kvs, {}), {"general.alignment", "integer"});
}

std::vector<uint8_t> one_tensor_file(uint32_t n_dims, std::vector<uint64_t> ne, uint32_t type,
                                     uint64_t offset, size_t data_bytes) {
  Bytes b;
  b.put<uint32_t>(0x46554747).put<uint32_t>(3).put<uint64_t>(1).put<uint64_t>(0);
  b.str("w").put<uint32_t>(n_dims);
  for (uint64_t d : ne) b.put<uint64_t>(d);
  b.put<uint32_t>(type).put<uint64_t>(offset);
  b.pad_to(32);
  b.raw(std::vector<uint8_t>(data_bytes, 0));
  return b.data();
}

TEST(GgufReader, ChecksTensorInfos) {
  EXPECT_TRUE(parse(one_tensor_file(2, {4, 2}, 0, 0, 32)).ok());
  EXPECT_TRUE(parse(one_tensor_file(1, {256}, 12, 0, 144)).ok());
  expect_error(one_tensor_file(2, {4, 2}, 0, 0, 31), {"'w'", "outside"});
  expect_error(one_tensor_file(2, {4, 2}, 0, 32, 63), {"'w'", "outside"});
  expect_error(one_tensor_file(2, {4, 2}, 0, 16, 64), {"'w'", "alignment"});
  expect_error(one_tensor_file(2, {4, 2}, 0, ~0ull << 5, 64), {"'w'"});
  expect_error(one_tensor_file(1, {100}, 12, 0, 1000), {"'w'", "Q4_K", "256"});
  expect_error(one_tensor_file(1, {32}, 77, 0, 1000), {"'w'", "type id 77"});
  expect_error(one_tensor_file(5, {1, 1, 1, 1, 1}, 0, 0, 32), {"'w'", "5 dimensions"});
  expect_error(one_tensor_file(2, {1ull << 40, 1ull << 40}, 0, 0, 32), {"'w'", "overflow"});
  expect_error(one_tensor_file(3, {0, 1ull << 40, 1ull << 40}, 0, 0, 32), {"'w'", "overflow"});
  expect_error(one_tensor_file(1, {1ull << 63}, 0, 0, 32), {"'w'"});
  // Byte size overflow: 2^60 elements of F32.
  expect_error(one_tensor_file(2, {1ull << 30, 1ull << 30}, 0, 0, 32), {"'w'"});
  // A zero-element tensor is fine and has no bytes.
  auto z = parse(one_tensor_file(2, {0, 5}, 0, 0, 0));
  ASSERT_TRUE(z.ok()) << z.message();
  EXPECT_EQ((*z)->tensors()[0].nbytes, 0u);
  // Types gavel cannot dequantize still parse with their true size (IQ2_XXS: 66 B / 256).
  auto iq = parse(one_tensor_file(1, {512}, 16, 0, 132));
  ASSERT_TRUE(iq.ok()) << iq.message();
  EXPECT_EQ((*iq)->tensors()[0].nbytes, 132u);
  std::vector<float> out(512);
  Status s = dequantize_tensor((*iq)->tensors()[0], out.data());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("IQ2_XXS"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("'w'"), std::string::npos) << s.message();
}

TEST(GgufReader, DuplicateTensorName) {
  std::vector<Tensor> ts = {{"x", {1}, 0, f32_bytes({1})}, {"x", {1}, 0, f32_bytes({2})}};
  expect_error(build_file(3, 0, Bytes(), ts), {"'x'", "duplicate"});
}

TEST(GgufReader, OpensFilesFromDisk) {
  uint64_t n;
  Bytes kv = all_types_kvs(n);
  auto img = build_file(3, n, kv, sample_tensors());
  auto path = std::filesystem::temp_directory_path() / "gavel_test_reader.gguf";
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(img.data()), static_cast<std::streamsize>(img.size()));
  }
  auto f = File::open(path.string());
  ASSERT_TRUE(f.ok()) << f.message();
  EXPECT_EQ((*f)->path(), path.string());
  EXPECT_EQ((*f)->tensors().size(), 3u);
  float v;
  std::memcpy(&v, (*f)->tensor("c.bias")->data + 8, 4);
  EXPECT_EQ(v, 1.0f);
  std::filesystem::remove(path);

  // Metadata of many pages (a vocabulary), read again after its pages were given back.
  Bytes big;
  std::vector<std::string> words;
  for (int i = 0; i < 3000; ++i) words.push_back("token_" + std::to_string(i * 7919));
  big.str("v.tokens").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(words.size());
  for (const std::string& w : words) big.str(w);
  big.str("v.types").put<uint32_t>(9).put<uint32_t>(5).put<uint64_t>(3000);
  for (int i = 0; i < 3000; ++i) big.put<int32_t>(i % 5 - 2);
  auto big_img = build_file(3, 2, big, sample_tensors());
  ASSERT_GT(big_img.size(), 16384u);
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(big_img.data()),
              static_cast<std::streamsize>(big_img.size()));
  }
  auto g = File::open(path.string());
  ASSERT_TRUE(g.ok()) << g.message();
  for (int pass = 0; pass < 2; ++pass) {
    EXPECT_EQ(*(*g)->get_string_array("v.tokens"), words) << "pass " << pass;
    const std::vector<int64_t> types = *(*g)->get_int_array("v.types");
    ASSERT_EQ(types.size(), 3000u);
    for (int i = 0; i < 3000; ++i) EXPECT_EQ(types[size_t(i)], i % 5 - 2) << i;
    EXPECT_EQ((*g)->find("v.tokens")->element(2999).s, words.back());
    std::memcpy(&v, (*g)->tensor("c.bias")->data + 8, 4);
    EXPECT_EQ(v, 1.0f);
    (*g)->release_metadata_pages();
  }
  std::filesystem::remove(path);

  auto missing = File::open("/nonexistent/x.gguf");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("/nonexistent/x.gguf"), std::string::npos);
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  auto empty_path = std::filesystem::temp_directory_path() / "gavel_test_empty.gguf";
  { std::ofstream out(empty_path); }
  auto empty = File::open(empty_path.string());
  EXPECT_FALSE(empty.ok());
  EXPECT_EQ(empty.code(), StatusCode::kCorruption);
  std::filesystem::remove(empty_path);
  EXPECT_EQ(File::open("/tmp").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace gavel::gguf
