export function TopicPage(props: { topic: string }) {
  return <h1>{props.topic}</h1>;
}
